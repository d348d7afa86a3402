import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TokenService, TwitchAuthEvent, type TokenIssuedEvent, type TokenRefreshFailedEvent } from '../twitch-auth/index.js';

/**
 * What a bot built on the module looks like: it injects TokenService, asks
 * for tokens by user (or intent), and reacts to the module's events.
 */
@Injectable()
export class BotService {
  private readonly logger = new Logger('DemoBot');

  constructor(private readonly tokens: TokenService) {}

  /** A chat-capable token for `userId`; refreshed first when due. */
  async chatToken(userId: string): Promise<string> {
    return this.tokens.getAccessToken(userId, ['chat:read']);
  }

  @OnEvent(TwitchAuthEvent.TokenAdded)
  onAdded(event: TokenIssuedEvent): void {
    this.logger.log(`Token added for ${event.info.login ?? event.userId} with scopes ${event.info.scopes.join(' ') || '(none)'}.`);
  }

  @OnEvent(TwitchAuthEvent.TokenRefreshed)
  onRefreshed(event: TokenIssuedEvent): void {
    this.logger.log(`Token of ${event.info.login ?? event.userId} refreshed; expires ${event.info.expiresAt?.toISOString() ?? 'never'}.`);
  }

  @OnEvent(TwitchAuthEvent.TokenRefreshFailed)
  onRefreshFailed(event: TokenRefreshFailedEvent): void {
    this.logger.warn(`Refreshing the token of ${event.userId} failed (${event.permanent ? 'user must authorize again' : 'will retry'}).`);
  }
}
