import { Inject, Injectable, Logger } from '@nestjs/common';
import { TokenRepository } from '../storage/token-repository.interface.js';
import { TokenCache } from '../tokens/token-cache.js';
import { TwitchAuthEvent, TwitchAuthEventPublisher, type TokenRevokedEvent } from '../twitch-auth.events.js';
import type { WireEventSubNotificationBody, WireEventSubRevocationBody } from '../twitch/eventsub-wire.types.js';

/** The notification Twitch sends when a user disconnects the application. */
export const USER_AUTHORIZATION_REVOKE = 'user.authorization.revoke';

/** Revocation statuses that say the user's grant itself is gone, not just the subscription. */
const GRANT_GONE: ReadonlyMap<unknown, string> = new Map([
  ['authorization_revoked', 'the user revoked the authorization of this application on Twitch'],
  ['user_removed', 'the user no longer exists on Twitch'],
]);

/**
 * Condition fields naming a user, in the order that decides whose
 * authorization a subscription rests on: a moderator's or a chatting user's
 * token when the condition has one, else the broadcaster's.
 */
const CONDITION_USER_FIELDS = ['moderator_user_id', 'user_id', 'broadcaster_user_id', 'to_broadcaster_user_id', 'from_broadcaster_user_id'];

/** Conditional writes lost to concurrent ones before giving up (each retry re-reads the row). */
const MAX_ATTEMPTS = 3;

/**
 * Acts on EventSub's word that a user's grant is gone (a revocation with
 * `authorization_revoked` or `user_removed`, or a `user.authorization.revoke`
 * notification): the stored token is marked `reauth_required` at once rather
 * than at its next validation, dropped from this instance's cache, and
 * `twitch.token.revoked` is emitted by whichever delivery flips the status.
 * Runs after the HTTP answer went out; never rejects.
 */
@Injectable()
export class EventSubTokenRevoker {
  private readonly logger = new Logger('TwitchAuth');

  constructor(
    @Inject(TokenRepository) private readonly repository: TokenRepository,
    private readonly cache: TokenCache,
    private readonly events: TwitchAuthEventPublisher,
  ) {}

  /** Marks the user of a revoked subscription when the revocation says the grant is gone. */
  async revocation(body: WireEventSubRevocationBody, timestamp: string): Promise<void> {
    const reason = GRANT_GONE.get(body.subscription.status);
    const userId = conditionUser(body.subscription.condition);
    if (reason === undefined || userId === null) return;
    await this.markRevoked(userId, reason, timestamp);
  }

  /** Marks the user of a `user.authorization.revoke` notification; other notifications are ignored. */
  async notification(body: WireEventSubNotificationBody, timestamp: string): Promise<void> {
    if (body.subscription.type !== USER_AUTHORIZATION_REVOKE) return;
    const userId = body.event.user_id;
    if (typeof userId !== 'string' || userId === '') return;
    await this.markRevoked(userId, 'the user disconnected this application on Twitch', timestamp);
  }

  private async markRevoked(userId: string, reason: string, timestamp: string): Promise<void> {
    try {
      const revokedAt = Date.parse(timestamp);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const row = await this.repository.get(userId);
        if (row === null || row.status === 'reauth_required') return;
        // A token obtained after the revocation comes from a new authorization, which the revocation does not concern.
        if (Number.isFinite(revokedAt) && row.obtainedAt > revokedAt) return;
        const written = await this.repository.update(userId, { status: 'reauth_required' }, { version: row.version });
        if (written === null) continue;
        this.cache.delete(userId);
        this.logger.warn(`User ${userId} must authorize again: ${reason} (EventSub).`);
        this.events.emit(TwitchAuthEvent.TokenRevoked, { userId, login: row.login, reason } satisfies TokenRevokedEvent);
        return;
      }
      this.logger.warn(`Could not mark the token of user ${userId} revoked: it kept changing; its next validation will.`);
    } catch (error) {
      this.logger.error(
        `Could not mark the token of user ${userId} revoked (${reason}); its next validation will: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/** The user whose authorization a subscription rests on, from its condition. */
function conditionUser(condition: Record<string, unknown> | undefined): string | null {
  for (const field of CONDITION_USER_FIELDS) {
    const value = condition?.[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}
