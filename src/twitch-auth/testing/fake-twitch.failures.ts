import type { FailNextOptions, FakeFailure, FakeTwitchEndpoint, FakeTwitchResponse } from './fake-twitch.types.js';

interface FailureRule {
  remaining: number;
  failure: FakeFailure;
  options: FailNextOptions;
}

/** A failure picked for one request. */
export interface ScheduledFailure {
  failure: FakeFailure;
  afterHandling: boolean;
}

/** Failures queued with `failNext`, consumed in the order they were queued. */
export class FailureQueue {
  private readonly rules = new Map<FakeTwitchEndpoint, FailureRule[]>();

  /** Queues `count` failures for requests to `endpoint` that match `options`. */
  add(endpoint: FakeTwitchEndpoint, count: number, failure: FakeFailure, options: FailNextOptions = {}): void {
    if (!Number.isInteger(count) || count < 1) throw new Error(`FakeTwitch.failNext: count must be a positive integer`);
    const list = this.rules.get(endpoint) ?? [];
    list.push({ remaining: count, failure, options: { ...options } });
    this.rules.set(endpoint, list);
  }

  /** Takes the first queued failure matching this request, if any. */
  take(endpoint: FakeTwitchEndpoint, grantType: string | undefined): ScheduledFailure | null {
    const list = this.rules.get(endpoint);
    if (!list) return null;
    const index = list.findIndex((rule) => rule.options.grantType === undefined || rule.options.grantType === grantType);
    if (index < 0) return null;
    const rule = list[index];
    rule.remaining--;
    if (rule.remaining === 0) list.splice(index, 1);
    if (list.length === 0) this.rules.delete(endpoint);
    return { failure: rule.failure, afterHandling: rule.options.afterHandling === true };
  }

  /** Drops every queued failure. */
  clear(): void {
    this.rules.clear();
  }
}

/**
 * The answer for a failure that answers at all (`'timeout'` and `'reset'` do
 * not). A 429 carries Twitch's rate-limit headers, `Ratelimit-Reset` in epoch
 * seconds.
 */
export function failureResponse(failure: Exclude<FakeFailure, 'timeout' | 'reset'>, nowMs: number): FakeTwitchResponse {
  if (failure === 500) {
    return { status: 500, body: { error: 'Internal Server Error', status: 500, message: 'Internal Server Error' } };
  }
  if (failure === 429) {
    return {
      status: 429,
      headers: {
        'ratelimit-limit': '800',
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(Math.ceil(nowMs / 1000) + 1),
      },
      body: { error: 'Too Many Requests', status: 429, message: 'Too Many Requests' },
    };
  }
  return { status: failure.status, body: { status: failure.status, message: failure.message } };
}
