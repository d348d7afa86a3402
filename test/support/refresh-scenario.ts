import type { TokenRepository, TokenService } from '../../src/twitch-auth/index.js';
import type { FakeTwitch, IssuedToken } from '../../src/twitch-auth/testing/index.js';

/**
 * Stores a token FakeTwitch issued for `userId` that is due for refresh
 * (obtained an hour ago, expiring in two minutes: inside the default 600 s
 * refresh window) but not expired, and validated just now, so a read or a
 * maintenance tick refreshes it and nothing validates it first.
 */
export async function seedDueToken(
  fake: FakeTwitch,
  app: { tokens: TokenService; repository: TokenRepository },
  userId: string,
): Promise<IssuedToken> {
  const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
  await app.tokens.addToken(userId, issued.accessToken, issued.refreshToken, ['chat:read']);
  const now = Date.now();
  await app.repository.update(userId, { obtainedAt: now - 3_600_000, expiresAt: now + 120_000, lastValidatedAt: now });
  return issued;
}

/** Polls `condition` every 50 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** `promise`'s value, or undefined once `ms` passed first; the timer never outlives the call. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Watches `repository.get`, so a test knows when a call it just made has read the user's row. */
export interface ReadWatch {
  /** Reads so far: take it right before the call to watch. */
  readonly count: number;
  /**
   * Waits until the first read after `count` finished and its continuation ran.
   * Bounded: a call that reads nothing (another implementation) waits `timeoutMs` and goes on.
   */
  settled(count: number, timeoutMs?: number): Promise<void>;
}

/** Records every `repository.get` of this application's repository from now on. */
export function watchReads(repository: TokenRepository): ReadWatch {
  const reads: Promise<unknown>[] = [];
  const get = repository.get.bind(repository);
  repository.get = (userId) => {
    const read = get(userId);
    reads.push(read.catch(() => undefined));
    return read;
  };
  return {
    get count() {
      return reads.length;
    },
    async settled(count, timeoutMs = 2_000) {
      await waitFor('a read', () => reads.length > count, timeoutMs).catch(() => undefined);
      await reads[count];
      // The caller's next steps (one more store round trip at most) run before the test goes on.
      await new Promise((r) => setTimeout(r, 200));
    },
  };
}

/** Holds every `repository.acquireLease` of this application at a gate until `open()`, counting the attempts. */
export function gateLeases(repository: TokenRepository): { readonly attempts: number; open(): void } {
  let attempts = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const acquireLease = repository.acquireLease.bind(repository);
  repository.acquireLease = async (...args) => {
    attempts += 1;
    await gate;
    return acquireLease(...args);
  };
  return {
    get attempts() {
      return attempts;
    },
    open: () => open(),
  };
}
