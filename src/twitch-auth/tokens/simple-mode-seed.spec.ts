import { jest } from '@jest/globals';
import { SIMPLE_MODE_INTENT } from '../twitch-auth.constants.js';
import { InvalidRefreshTokenError, TwitchServerError } from '../twitch/twitch.errors.js';
import { SimpleModeSeed, type SimpleModeSeedDeps } from './simple-mode-seed.js';
import { SimpleModeTokenPendingError, SimpleModeTokenRejectedError } from './token.errors.js';
import type { ValidatedUserToken } from './user-token-validation.js';

const VALIDATED: ValidatedUserToken = {
  userId: '42',
  login: 'bot',
  accessToken: 'configured-access',
  refreshToken: null,
  scopes: ['chat:read'],
  expiresAt: null,
  obtainedAt: 0,
  lastValidatedAt: 0,
};

/** Deps whose Twitch check fails with each of `failures` in turn, then succeeds; counts what happened. */
function scriptedDeps(failures: Error[]) {
  const calls = { validate: 0, stored: 0, logs: [] as string[] };
  const deps: SimpleModeSeedDeps = {
    getStored: async () => null,
    findStoredByIntent: async () => null,
    validateToken: async () => {
      calls.validate += 1;
      const failure = failures.shift();
      if (failure) throw failure;
      return VALIDATED;
    },
    storeToken: async (token) => {
      calls.stored += 1;
      return { ...token, status: 'valid', intents: [SIMPLE_MODE_INTENT], expiresAt: null, obtainedAt: new Date(0), lastValidatedAt: null };
    },
    storedTokenWorks: async () => true,
    addIntents: async () => undefined,
    logger: {
      log: (message: string) => calls.logs.push(`log ${message}`),
      warn: (message: string) => calls.logs.push(`warn ${message}`),
      error: (message: string) => calls.logs.push(`error ${message}`),
    },
  };
  return { deps, calls };
}

const serverError = () => new TwitchServerError({ status: 500, twitchMessage: null, endpoint: 'validate' });
const timings = { firstRetryMs: 1_000, maxRetryMs: 4_000 };

describe('SimpleModeSeed', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('retries transient failures in the background with doubling delays capped at maxRetryMs, then stops', async () => {
    const { deps, calls } = scriptedDeps([serverError(), serverError(), serverError(), serverError()]);
    // random() = 1: the top of the jitter range, so the delays are exactly 1 s, 2 s, 4 s, 4 s.
    const seed = new SimpleModeSeed(deps, { accessToken: 'configured-access', refreshToken: null }, timings, () => 1);
    await seed.start();
    expect(calls.validate).toBe(1);
    for (const [delay, attempts] of [
      [1_000, 2],
      [2_000, 3],
      [4_000, 4],
      [4_000, 5],
    ] as const) {
      await jest.advanceTimersByTimeAsync(delay - 1);
      expect(calls.validate).toBe(attempts - 1);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls.validate).toBe(attempts);
    }
    expect(calls.stored).toBe(1);
    expect(seed.pending).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('jitters each delay into its upper half', async () => {
    const { deps, calls } = scriptedDeps([serverError()]);
    const seed = new SimpleModeSeed(deps, { accessToken: 'configured-access', refreshToken: null }, timings, () => 0);
    await seed.start();
    await jest.advanceTimersByTimeAsync(499);
    expect(calls.validate).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls.validate).toBe(2);
  });

  it('leaves no timer behind once stopped, and an attempt in flight at stop schedules none', async () => {
    const { deps, calls } = scriptedDeps([serverError(), serverError()]);
    const seed = new SimpleModeSeed(deps, { accessToken: 'configured-access', refreshToken: null }, timings, () => 1);
    await seed.start();
    expect(jest.getTimerCount()).toBe(1);
    const inFlight = seed.beforeNotFound({ intent: SIMPLE_MODE_INTENT });
    seed.stop();
    expect(await inFlight).toBeInstanceOf(SimpleModeTokenPendingError);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(calls.validate).toBe(2);
  });

  it('shares one attempt among concurrent reads and reports the pending seed for the simple-mode intent only', async () => {
    const { deps, calls } = scriptedDeps([serverError(), serverError()]);
    const seed = new SimpleModeSeed(deps, { accessToken: 'configured-access', refreshToken: null }, timings, () => 1);
    await seed.start();
    const [forIntent, forUser] = await Promise.all([
      seed.beforeNotFound({ intent: SIMPLE_MODE_INTENT }),
      seed.beforeNotFound({ userId: '7' }),
    ]);
    expect(calls.validate).toBe(2);
    expect(forIntent).toBeInstanceOf(SimpleModeTokenPendingError);
    expect(forUser).toBeNull();
    seed.stop();
  });

  it('logs a permanent failure once and never tries again', async () => {
    const { deps, calls } = scriptedDeps([
      new InvalidRefreshTokenError({ status: 400, twitchMessage: 'Invalid refresh token', endpoint: 'token' }),
    ]);
    const seed = new SimpleModeSeed(deps, { accessToken: 'configured-access', refreshToken: null }, timings, () => 1);
    await seed.start();
    expect(jest.getTimerCount()).toBe(0);
    expect(await seed.beforeNotFound({ intent: SIMPLE_MODE_INTENT })).toBeInstanceOf(SimpleModeTokenRejectedError);
    await jest.advanceTimersByTimeAsync(60 * 60_000);
    expect(calls.validate).toBe(1);
    expect(calls.logs.filter((line) => line.startsWith('error'))).toHaveLength(1);
  });
});
