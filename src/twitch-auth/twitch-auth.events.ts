import { Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { AccessToken, TokenInfo } from './tokens/access-token.js';

/** Event names emitted through `@nestjs/event-emitter`. Listen with `@OnEvent(TwitchAuthEvent.TokenRefreshed)`. */
export const TwitchAuthEvent = {
  TokenAdded: 'twitch.token.added',
  TokenRefreshed: 'twitch.token.refreshed',
  TokenRefreshFailed: 'twitch.token.refresh_failed',
  TokenRevoked: 'twitch.token.revoked',
  TokenValidated: 'twitch.token.validated',
  BotReady: 'twitch.bot.ready',
  OAuthAuthorized: 'twitch.oauth.authorized',
  OAuthFailed: 'twitch.oauth.failed',
  EventSubNotification: 'twitch.eventsub.notification',
  EventSubRevocation: 'twitch.eventsub.revocation',
} as const;

/** `twitch.eventsub.<type>` for one subscription type, e.g. `twitch.eventsub.channel.follow`. */
export function eventSubEventName(subscriptionType: string): string {
  return `twitch.eventsub.${subscriptionType}`;
}

/**
 * Payload of `twitch.token.added` and `twitch.token.refreshed`. It carries no
 * secret as data; a handler that needs the token opts in by calling `token()`.
 */
export class TokenIssuedEvent {
  readonly #token: AccessToken;

  constructor(
    readonly info: TokenInfo,
    token: AccessToken,
  ) {
    this.#token = token;
  }

  get userId(): string {
    return this.info.userId;
  }

  /** Opt-in access to the token with its secrets. */
  token(): AccessToken {
    return this.#token;
  }
}

/** Payload of `twitch.token.refresh_failed`. */
export interface TokenRefreshFailedEvent {
  userId: string;
  /** True when the user must authorize again; false when a retry may succeed. */
  permanent: boolean;
  /** Error class name and message (never a secret). */
  reason: string;
}

/** Payload of `twitch.token.revoked`: validation or refresh found the grant dead. */
export interface TokenRevokedEvent {
  userId: string;
  login: string | null;
  reason: string;
}

/** Payload of `twitch.token.validated`: Twitch confirmed the user's token through /oauth2/validate. */
export interface TokenValidatedEvent {
  userId: string;
  login: string | null;
}

/** Payload of `twitch.bot.ready`: the `bot` option's account was granted and stored under its intent. */
export interface BotReadyEvent {
  intent: string;
  info: TokenInfo;
}

/** Payload of `twitch.oauth.authorized`. */
export interface OAuthAuthorizedEvent {
  info: TokenInfo;
}

/** Payload of `twitch.oauth.failed`. */
export interface OAuthFailedEvent {
  /** Short machine-readable reason, e.g. `state_expired`, `access_denied`. */
  reason: string;
  message: string;
}

/**
 * Emits the module's events when the app imported `EventEmitterModule.forRoot()`;
 * otherwise events are dropped (the module warns once at startup).
 */
@Injectable()
export class TwitchAuthEventPublisher {
  private readonly logger = new Logger('TwitchAuth');
  private readonly internal = new Map<string, Set<(payload: unknown) => void>>();

  constructor(@Optional() private readonly emitter?: EventEmitter2) {}

  /**
   * Lets the module's own parts hear an event even when the app imported no
   * `EventEmitterModule`. The listener runs synchronously on emit and must
   * not throw. Returns the unsubscribe function.
   */
  subscribe(name: string, listener: (payload: unknown) => void): () => void {
    const listeners = this.internal.get(name) ?? new Set();
    this.internal.set(name, listeners);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Whether anyone can receive events. */
  get enabled(): boolean {
    return this.emitter !== undefined;
  }

  /**
   * Emits `name` without waiting for listeners. A listener that throws or
   * returns a rejected promise (an `async` handler) is logged, never
   * propagated to token code nor left as an unhandled rejection.
   */
  emit(name: string, payload: unknown): void {
    void this.emitAndWait(name, payload);
  }

  /** Whether any listener would receive `name`, so payloads nobody reads need not be built. */
  hasListeners(name: string): boolean {
    if ((this.internal.get(name)?.size ?? 0) > 0) return true;
    return this.emitter !== undefined && this.emitter.hasListeners(name) === true;
  }

  /** Emits `name` and resolves once every listener settled; never rejects. */
  emitAndWait(name: string, payload: unknown): Promise<void> {
    const internal = this.internal.get(name);
    if (internal !== undefined) for (const listener of internal) listener(payload);
    if (!this.emitter) return SETTLED;
    // Not async: EventSub emits per message, and the emitter's own promise, chained once, is all it needs.
    let settled: Promise<unknown> | false;
    try {
      // EventEmitter2 answers `false`, not a promise, while it has no listener at all.
      settled = this.emitter.emitAsync(name, payload) as Promise<unknown> | false;
    } catch (error) {
      this.listenerFailed(name, error);
      return SETTLED;
    }
    if (settled === false) return SETTLED;
    return settled.then(IGNORE, (error: unknown) => this.listenerFailed(name, error));
  }

  private listenerFailed(name: string, error: unknown): void {
    this.logger.error(`A listener of ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const SETTLED: Promise<void> = Promise.resolve();
const IGNORE = (): void => undefined;
