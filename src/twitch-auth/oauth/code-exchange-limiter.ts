import { Injectable, Logger } from '@nestjs/common';
import type { OAuthReply } from './oauth-flow.js';
import { failurePage } from './oauth.pages.js';

/** Callbacks exchanging a code with Twitch at the same time. */
export const MAX_CONCURRENT_CODE_EXCHANGES = 4;
/** Callbacks waiting for a turn; past this, a callback is answered 503 at once. */
export const MAX_QUEUED_CODE_EXCHANGES = 16;
/** The `Retry-After` of that 503: the queue moves at the pace of Twitch's answers. */
export const CODE_EXCHANGE_RETRY_AFTER_SECONDS = 5;

/** Ends a turn; calling it again does nothing. */
export type ReleaseTurn = () => void;

/**
 * Bounds the outbound code exchanges of the built-in callback. Anyone can
 * start an authorization and send its state back with a made-up code, and
 * each such callback costs a request to Twitch: unbounded, a flood of them
 * piles up outbound requests (and Twitch's rate limit) without end. A few
 * run at once, a few more wait their turn, and the rest are refused.
 */
@Injectable()
export class CodeExchangeLimiter {
  private readonly logger = new Logger('TwitchAuth');
  private active = 0;
  private readonly waiting: Array<(release: ReleaseTurn) => void> = [];
  /** Set while refusing, so a flood logs one line rather than one per request. */
  private refusing = false;

  /**
   * A turn (resolving when it starts; release it when done), or null when
   * the queue is full and the callback should be answered with `busyReply`.
   */
  tryEnter(): Promise<ReleaseTurn> | null {
    if (this.active < MAX_CONCURRENT_CODE_EXCHANGES) {
      this.active++;
      return Promise.resolve(this.turn());
    }
    if (this.waiting.length >= MAX_QUEUED_CODE_EXCHANGES) {
      if (!this.refusing) {
        this.refusing = true;
        this.logger.warn(
          `OAuth callback: ${MAX_CONCURRENT_CODE_EXCHANGES} code exchanges are running and ${MAX_QUEUED_CODE_EXCHANGES} waiting; further callbacks are answered 503 until the queue drains. Many callbacks at once usually means someone floods them: rate-limit the OAuth routes (see the docs, @nestjs/throttler).`,
        );
      }
      return null;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private turn(): ReleaseTurn {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line, so `active` never exceeds its bound.
      if (next) next(this.turn());
      else {
        this.active--;
        this.refusing = false;
      }
    };
  }
}

/**
 * The answer when the queue is full: 503 with `Retry-After`. The state is
 * neither redeemed nor its cookie cleared, so reloading the page later
 * completes the same authorization.
 */
export function codeExchangeBusyReply(): OAuthReply {
  return {
    status: 503,
    html: failurePage(
      'Too many authorizations at once',
      `This application is completing too many Twitch authorizations right now, so yours was not started. Nothing was lost: reload this page in ${CODE_EXCHANGE_RETRY_AFTER_SECONDS} seconds to finish it.`,
      null,
    ),
    headers: { 'Retry-After': String(CODE_EXCHANGE_RETRY_AFTER_SECONDS) },
    setCookies: [],
  };
}
