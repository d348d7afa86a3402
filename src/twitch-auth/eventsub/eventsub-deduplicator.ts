import { Inject, Injectable } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { ClaimStore } from '../storage/claim-store.interface.js';
import { EVENTSUB_MAX_FUTURE_SKEW_SECONDS } from './eventsub-signature.js';

/** `ClaimStore` namespace of EventSub message ids. */
export const EVENTSUB_CLAIM_NAMESPACE = 'eventsub';

/** Message ids are remembered at least this long (Twitch's retries come within minutes). */
export const EVENTSUB_DEDUP_MIN_SECONDS = 600;

/**
 * Remembers delivered message ids in the `ClaimStore`, so a message Twitch
 * resends (at least once delivery), or delivers to two instances, is
 * dispatched once. Only ever fed verified messages: forged ids would
 * otherwise poison the set. Ids are kept for 10 minutes, or longer when the
 * replay window is longer, so an id cannot be forgotten while its message
 * would still pass the timestamp check.
 */
@Injectable()
export class EventSubDeduplicator {
  /** How long an id is remembered, in milliseconds. */
  readonly windowMs: number;

  constructor(
    @Inject(ClaimStore) private readonly claims: ClaimStore,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) options: ResolvedTwitchAuthOptions,
  ) {
    const replayWindow = (options.eventSub?.maxMessageAgeSeconds ?? 0) + EVENTSUB_MAX_FUTURE_SKEW_SECONDS;
    this.windowMs = Math.max(EVENTSUB_DEDUP_MIN_SECONDS, replayWindow) * 1000;
  }

  /**
   * True the first time a message id is seen (by any instance sharing the
   * store), false for a redelivery. Answered synchronously when the store can
   * (the in-memory one), so the socket path need not wait a microtask per
   * message; `await` works on either.
   */
  firstDelivery(messageId: string): boolean | Promise<boolean> {
    const expiresAt = Date.now() + this.windowMs;
    return this.claims.claimNow !== undefined
      ? this.claims.claimNow(EVENTSUB_CLAIM_NAMESPACE, messageId, expiresAt)
      : this.claims.claim(EVENTSUB_CLAIM_NAMESPACE, messageId, expiresAt);
  }
}
