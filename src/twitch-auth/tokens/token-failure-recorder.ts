import type { Logger } from '@nestjs/common';
import { TwitchAuthEvent, type TwitchAuthEventPublisher } from '../twitch-auth.events.js';
import { InvalidRefreshTokenError } from '../twitch/twitch.errors.js';
import { describeError, isTransient } from './token-failures.js';
import type { TokenCache } from './token-cache.js';
import type { RefresherTimings } from './token-timings.js';
import type { PlainToken, TokenStore } from './token-store.js';
import { ReauthorizationRequiredError, TokenRefreshFailedError } from './token.errors.js';

/**
 * Leaves the trace of a failed refresh or validation where each reader looks
 * for it: the row (a backoff the scheduler honours, or `reauth_required`),
 * the log, and the `twitch.token.*` events. Called under the user's lease.
 */
export class TokenFailureRecorder {
  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly events: TwitchAuthEventPublisher,
    private readonly instanceId: string,
    private readonly timings: Readonly<Pick<RefresherTimings, 'backoffBaseMs' | 'backoffMaxMs'>>,
    private readonly logger: Logger,
  ) {}

  /**
   * Records that refreshing `row` failed with `error` and returns what the
   * caller should throw: a dead refresh token marks the user
   * `reauth_required`; any other failure backs the token off.
   */
  async refreshFailed(row: PlainToken, error: unknown): Promise<unknown> {
    const userId = row.userId;
    if (error instanceof InvalidRefreshTokenError) {
      await this.markReauthRequired(row, error.message);
      return new ReauthorizationRequiredError(userId, { cause: error });
    }
    await this.backOff(row);
    this.events.emit(TwitchAuthEvent.TokenRefreshFailed, { userId, permanent: false, reason: describeError(error) });
    if (isTransient(error)) {
      this.logger.warn(`Refreshing the token of user ${userId} failed for now (${describeError(error)}); the stored token is kept.`);
      return new TokenRefreshFailedError(userId, { cause: error });
    }
    this.logger.error(`Refreshing the token of user ${userId} failed: ${describeError(error)}`);
    return error;
  }

  /** Announces that Twitch rejected the token and it could not be refreshed: the grant is gone. */
  revoked(row: PlainToken): void {
    this.events.emit(TwitchAuthEvent.TokenRevoked, {
      userId: row.userId,
      login: row.login,
      reason: 'Twitch reports the token invalid and it could not be refreshed',
    });
  }

  /** Marks the user `reauth_required` and releases the lease; does nothing once this instance no longer holds it. */
  async markReauthRequired(row: PlainToken, reason: string): Promise<void> {
    // On the row that failed: a refreshed token another instance landed meanwhile is not marked.
    const written = await this.store.update(
      row.userId,
      { status: 'reauth_required', leaseOwner: null },
      { leaseOwner: this.instanceId, version: row.version },
    );
    if (!written) return;
    this.cache.putIfCached(written);
    this.logger.warn(`User ${row.userId} must authorize again: ${reason}`);
    this.events.emit(TwitchAuthEvent.TokenRefreshFailed, { userId: row.userId, permanent: true, reason });
  }

  /** Postpones the token's maintenance after a transient failure: base delay, doubling per failure, capped. */
  async backOff(row: PlainToken): Promise<void> {
    const failureCount = row.failureCount + 1;
    const delay = Math.min(this.timings.backoffBaseMs * 2 ** (failureCount - 1), this.timings.backoffMaxMs);
    await this.store
      .update(
        row.userId,
        { failureCount, retryAt: Date.now() + delay, leaseOwner: null },
        { leaseOwner: this.instanceId, version: row.version },
      )
      .catch((error: unknown) => this.logger.warn(`Could not record the backoff of user ${row.userId}: ${describeError(error)}`));
  }
}
