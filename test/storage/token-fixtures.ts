import type { NewStoredToken, TokenRepository } from '../../src/twitch-auth/storage/token-repository.interface.js';

/** Instants beyond 2^31 ms on purpose: a 32-bit column or a string bigint would show. */
export const T0 = 1_900_000_000_000;

/** A complete new token for `userId`; tests override what they look at. */
export function newToken(userId: string, overrides: Partial<NewStoredToken> = {}): NewStoredToken {
  return {
    userId,
    login: `login_${userId}`,
    accessToken: `access-${userId}`,
    refreshToken: `refresh-${userId}`,
    scopes: ['chat:read', 'chat:edit'],
    expiresAt: T0 + 3_600_000,
    obtainedAt: T0,
    lastValidatedAt: T0,
    status: 'valid',
    intents: [],
    ...overrides,
  };
}

/**
 * `count` saves, updates and deletes that move four intents among five users,
 * spread over the given repositories and started all at once.
 */
export function intentChurn(repositories: TokenRepository[], count: number): Promise<unknown>[] {
  const users = ['a', 'b', 'c', 'd', 'e'];
  const intents = ['i1', 'i2', 'i3', 'i4'];
  return Array.from({ length: count }, (_, n) => {
    const repo = repositories[n % repositories.length]!;
    const user = users[n % users.length]!;
    const wanted = intents.filter((_, bit) => (n >> bit) & 1);
    if (n % 7 === 0) return repo.delete(user);
    return n % 3 === 0 ? repo.update(user, { intents: wanted }) : repo.save(newToken(user, { intents: wanted }));
  });
}

/** Fails unless every intent is listed by at most one user and `findByIntent` agrees with the lists. */
export async function expectIntentsConsistent(repo: TokenRepository): Promise<void> {
  const tokens = await repo.list();
  for (const intent of ['i1', 'i2', 'i3', 'i4']) {
    const holders = tokens.filter((t) => t.intents.includes(intent)).map((t) => t.userId);
    expect(holders.length).toBeLessThanOrEqual(1);
    expect((await repo.findByIntent(intent))?.userId ?? null).toBe(holders[0] ?? null);
  }
}
