import type { IncomingHttpHeaders } from 'node:http';

/** What Helix said about a token's bucket in one answer's `Ratelimit-*` headers. */
export interface RateLimitReport {
  limit: number;
  remaining: number;
  /** Epoch milliseconds when the bucket is full again. */
  resetAtMs: number;
}

/** Reads `Ratelimit-Limit/Remaining/Reset` (reset in Unix seconds); null when any is missing or malformed. */
export function readRateLimitHeaders(headers: IncomingHttpHeaders): RateLimitReport | null {
  const limit = Number(headers['ratelimit-limit']);
  const remaining = Number(headers['ratelimit-remaining']);
  const reset = Number(headers['ratelimit-reset']);
  if (
    headers['ratelimit-limit'] === undefined ||
    headers['ratelimit-remaining'] === undefined ||
    headers['ratelimit-reset'] === undefined
  ) {
    return null;
  }
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(reset)) return null;
  return { limit, remaining, resetAtMs: reset * 1000 };
}

interface Waiter {
  points: number;
  resolve(): void;
}

/**
 * One token's Helix bucket as this process knows it: the points it may still
 * spend before the reset, the calls it has sent whose answers have not come
 * back, and a FIFO of calls waiting for points.
 *
 * Until the first answer says how large the bucket is, one call goes at a
 * time (a probe), so a burst of thousands never hits an unknown limit at
 * once. An answer without rate-limit headers (a server without limits) lets
 * every call through. Estimates stay conservative: the points of calls still
 * in flight are assumed not yet counted by Twitch, and an empty bucket waits
 * for `Ratelimit-Reset` and then assumes it full again.
 */
export class RateLimitBucket {
  private known = false;
  private unlimited = false;
  private limit = 0;
  /** Points this process may still spend in the window ending at `resetAtMs`. */
  private available = 0;
  private resetAtMs = 0;
  /** True once `resetAtMs` has passed and the bucket was assumed full again. */
  private refilled = false;
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** Resolves once the call may be sent; `points` are spent from the bucket. Call `settle` when the answer arrives. */
  acquire(points = 1): Promise<void> {
    if (this.waiters.length === 0 && this.tryTake(points)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push({ points, resolve });
      this.schedule();
    });
  }

  /**
   * The answer to a call sent after `acquire` arrived: `report` is its
   * rate-limit headers (null when it had none, or when no answer came back:
   * pass `answered: false` then).
   */
  settle(report: RateLimitReport | null, answered = true): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (report) {
      this.learn(report);
    } else if (answered && !this.known) {
      this.unlimited = true;
    }
    this.drain();
  }

  /** A 429 arrived: nothing more is sent before `resetAtMs` (a second from now when Twitch did not say, or said a past instant). */
  exhausted(resetAtMs: number | null): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const now = this.now();
    this.known = true;
    this.unlimited = false;
    this.available = 0;
    this.resetAtMs = resetAtMs !== null && resetAtMs > now ? resetAtMs : now + 1_000;
    this.refilled = false;
    this.drain();
  }

  /** Calls waiting for points (for tests and diagnostics). */
  get queued(): number {
    return this.waiters.length;
  }

  /**
   * Takes in what one answer said. Twitch counted that call and every one
   * before it; calls still in flight may not be counted yet, so they are
   * subtracted. An answer about a window that has ended by now (sent before
   * the reset, answered after it) says nothing about the current one.
   */
  private learn(report: RateLimitReport): void {
    const now = this.now();
    const estimate = Math.max(0, report.remaining - this.inFlight);
    this.unlimited = false;
    this.limit = report.limit;
    if (!this.known || report.resetAtMs > this.resetAtMs) {
      if (report.resetAtMs <= now && this.known) return;
      this.known = true;
      this.available = estimate;
      this.resetAtMs = report.resetAtMs;
      this.refilled = false;
    } else if (report.resetAtMs > now) {
      this.available = Math.min(this.available, estimate);
    }
  }

  private tryTake(points: number): boolean {
    if (this.unlimited) {
      this.inFlight++;
      return true;
    }
    if (!this.known) {
      // Probe: one call at a time until an answer tells the bucket's size.
      if (this.inFlight > 0) return false;
      this.inFlight++;
      return true;
    }
    if (!this.refilled && this.now() >= this.resetAtMs) {
      // Twitch said the bucket is full again by now; calls still in flight may already count against it.
      this.available = Math.max(0, this.limit - this.inFlight);
      this.refilled = true;
    }
    // A call larger than the whole bucket can never be served by waiting: it goes when nothing else is out.
    if (this.available < points && !(points > this.limit && this.inFlight === 0)) return false;
    this.available = Math.max(0, this.available - points);
    this.inFlight++;
    return true;
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.tryTake(this.waiters[0].points)) this.waiters.shift()!.resolve();
    this.schedule();
  }

  /**
   * Wakes the queue at the reset when calls wait on an empty bucket. After a
   * reset the next answer tells the new window (its `settle` drains); with
   * nothing in flight to tell it, the queue tries again a second later.
   */
  private schedule(): void {
    if (this.timer || this.waiters.length === 0 || !this.known || this.unlimited) return;
    if (this.refilled) {
      if (this.inFlight > 0) return;
      this.resetAtMs = this.now() + 1_000;
      this.refilled = false;
    }
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.drain();
      },
      Math.max(0, this.resetAtMs - this.now()),
    );
  }
}

/** One bucket per token identity (`app`, or a user id), created on first use. */
export class RateLimiter {
  private readonly buckets = new Map<string, RateLimitBucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The bucket of `identity`. */
  bucket(identity: string): RateLimitBucket {
    let bucket = this.buckets.get(identity);
    if (!bucket) {
      bucket = new RateLimitBucket(this.now);
      this.buckets.set(identity, bucket);
    }
    return bucket;
  }
}
