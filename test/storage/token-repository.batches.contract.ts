import { hasTokenBatchOperations, type TokenBatchOperations } from '../../src/twitch-auth/storage/token-batches.interface.js';
import { CLOCK_SKEW_TOLERANCE_MS, type TokenRepository } from '../../src/twitch-auth/storage/token-repository.interface.js';
import { newToken, T0 } from './token-fixtures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The optional batch operations maintenance uses (both built-in repositories
 * have them): claims that lease due rows in the claiming step, so concurrent
 * claimants never share a row, and fenced writes in one transaction. Run from
 * `describeTokenRepositoryContract`, which owns setup and teardown.
 */
export function describeBatchContract(repository: () => TokenRepository): void {
  let repo: TokenRepository & TokenBatchOperations;
  beforeEach(() => {
    const subject = repository();
    if (!hasTokenBatchOperations(subject)) throw new Error('the repository under test has no batch operations');
    repo = subject;
  });
  const claim = (owner: string, limit = 100) => ({ owner, until: T0 + MINUTE, now: T0, limit });

  describe('batch operations', () => {
    it('claims due rows for refresh in due order, leases them to the claimant and leaves version alone', async () => {
      await repo.save(newToken('late', { expiresAt: T0 + 9 * MINUTE }));
      await repo.save(newToken('soon', { expiresAt: T0 + 2 * MINUTE }));
      await repo.save(newToken('not-due', { expiresAt: T0 + HOUR }));
      await repo.save(newToken('no-refresh', { expiresAt: T0, refreshToken: null }));
      const claimed = await repo.claimDueForRefresh(T0 + 10 * MINUTE, claim('worker-a'));
      expect(claimed.map((row) => row.userId)).toEqual(['soon', 'late']);
      for (const row of claimed) expect(row).toMatchObject({ leaseOwner: 'worker-a', leaseExpiresAt: T0 + MINUTE, version: 1 });
      expect(await repo.get('soon')).toMatchObject({ leaseOwner: 'worker-a', leaseExpiresAt: T0 + MINUTE, version: 1 });
      expect(await repo.get('not-due')).toMatchObject({ leaseOwner: null });
    });

    it('never claims a leased row, not even one the claimant holds, and respects the limit', async () => {
      for (const id of ['a', 'b', 'c', 'd']) await repo.save(newToken(id, { expiresAt: T0 }));
      await repo.acquireLease('a', 'worker-b', T0 + MINUTE, T0);
      await repo.acquireLease('b', 'worker-a', T0 + MINUTE, T0);
      expect((await repo.claimDueForRefresh(T0, claim('worker-a', 1))).map((row) => row.userId)).toEqual(['c']);
      expect((await repo.claimDueForRefresh(T0, claim('worker-a'))).map((row) => row.userId)).toEqual(['d']);
      expect(await repo.claimDueForRefresh(T0, claim('worker-c'))).toEqual([]);
    });

    it('claims rows due for validation with the future-stamped ones first, and skips backed-off rows', async () => {
      await repo.save(newToken('old', { lastValidatedAt: T0 - 2 * HOUR }));
      await repo.save(newToken('never', { lastValidatedAt: null }));
      await repo.save(newToken('future', { lastValidatedAt: T0 + CLOCK_SKEW_TOLERANCE_MS + HOUR }));
      await repo.save(newToken('fresh', { lastValidatedAt: T0 }));
      await repo.save(newToken('backed-off', { lastValidatedAt: T0 - 2 * HOUR, retryAt: T0 + MINUTE }));
      const claimed = await repo.claimDueForValidation(T0 - HOUR, claim('worker-a'));
      expect(claimed.map((row) => row.userId)).toEqual(['future', 'never', 'old']);
      expect(await repo.get('fresh')).toMatchObject({ leaseOwner: null });
    });

    it('gives concurrent claimants disjoint rows that together cover every due row', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, '0')}`);
      for (const id of ids) await repo.save(newToken(id, { expiresAt: T0 }));
      const claims = await Promise.all(Array.from({ length: 6 }, (_, n) => repo.claimDueForRefresh(T0 + MINUTE, claim(`worker-${n}`, 10))));
      const claimed = claims.flat().map((row) => row.userId);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect([...claimed].sort()).toEqual(ids);
      for (const [n, rows] of claims.entries()) {
        for (const row of rows) expect((await repo.get(row.userId))!.leaseOwner).toBe(`worker-${n}`);
      }
    });

    it('applies each batched write only where its conditions hold, bumping version and releasing the lease it asks to', async () => {
      for (const id of ['a', 'b', 'c']) await repo.save(newToken(id));
      for (const id of ['a', 'b', 'c']) await repo.acquireLease(id, 'worker-a', T0 + MINUTE, T0);
      await repo.update('b', { login: 'changed' });
      const landed = await repo.updateMany([
        { userId: 'a', changes: { lastValidatedAt: T0 + 5, leaseOwner: null }, condition: { version: 1, leaseOwner: 'worker-a' } },
        { userId: 'b', changes: { lastValidatedAt: T0 + 5, leaseOwner: null }, condition: { version: 1, leaseOwner: 'worker-a' } },
        { userId: 'c', changes: { lastValidatedAt: T0 + 5, leaseOwner: null }, condition: { version: 1, leaseOwner: 'worker-b' } },
        { userId: 'missing', changes: { lastValidatedAt: T0 + 5 }, condition: { version: 1 } },
      ]);
      expect(landed).toEqual([true, false, false, false]);
      expect(await repo.get('a')).toMatchObject({ lastValidatedAt: T0 + 5, version: 2, leaseOwner: null, leaseExpiresAt: null });
      expect(await repo.get('b')).toMatchObject({ lastValidatedAt: T0, version: 2, leaseOwner: 'worker-a' });
      expect(await repo.get('c')).toMatchObject({ lastValidatedAt: T0, version: 1, leaseOwner: 'worker-a' });
      expect(await repo.updateMany([])).toEqual([]);
    });

    it('lands exactly one of two concurrent batches fenced on the same versions, rows listed in opposite orders, without failing either', async () => {
      const ids = Array.from({ length: 30 }, (_, i) => `o${String(i).padStart(2, '0')}`);
      for (const id of ids) await repo.save(newToken(id));
      const batch = (writer: string, order: string[]) =>
        order.map((userId) => ({ userId, changes: { login: writer }, condition: { version: 1 } }));
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all([
          repo.updateMany(batch(`a${round}`, ids)),
          repo.updateMany(batch(`b${round}`, [...ids].reverse())),
          repo.updateMany(batch(`c${round}`, [...ids.slice(15), ...ids.slice(0, 15)])),
        ]);
        for (const [i, id] of ids.entries()) {
          const winners = [results[0]![i], results[1]![ids.length - 1 - i], results[2]![(i + 15) % ids.length]].filter(Boolean);
          expect({ id, winners: winners.length }).toEqual({ id, winners: 1 });
          const row = (await repo.get(id))!;
          expect(row.version).toBe(2);
          expect(row.login).toMatch(new RegExp(`^[abc]${round}$`));
        }
        // The next round fences on version 1 again.
        for (const id of ids) await repo.delete(id);
        for (const id of ids) await repo.save(newToken(id));
      }
    });

    it('releases only the listed leases the owner holds, without changing version', async () => {
      for (const id of ['a', 'b', 'c']) await repo.save(newToken(id));
      await repo.acquireLease('a', 'worker-a', T0 + MINUTE, T0);
      await repo.acquireLease('b', 'worker-b', T0 + MINUTE, T0);
      await repo.acquireLease('c', 'worker-a', T0 + MINUTE, T0);
      await repo.releaseLeases(['a', 'b'], 'worker-a');
      expect(await repo.get('a')).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, version: 1 });
      expect(await repo.get('b')).toMatchObject({ leaseOwner: 'worker-b' });
      expect(await repo.get('c')).toMatchObject({ leaseOwner: 'worker-a' });
      await repo.releaseLeases([], 'worker-a');
    });
  });
}
