import {
  CLOCK_SKEW_TOLERANCE_MS,
  MAX_RETRY_DELAY_MS,
  type TokenRepository,
} from '../../src/twitch-auth/storage/token-repository.interface.js';
import { expectIntentsConsistent, intentChurn, newToken, T0 } from './token-fixtures.js';

const MINUTE = 60_000;

/**
 * The coordination half of the contract: leases, the maintenance due-queries
 * and what must hold when many callers race. Run from
 * `describeTokenRepositoryContract`, which owns setup and teardown.
 */
export function describeLeaseAndDueContract(repository: () => TokenRepository): void {
  let repo: TokenRepository;
  beforeEach(() => {
    repo = repository();
  });

  describe('leases', () => {
    it('takes a free lease without touching version', async () => {
      await repo.save(newToken('100'));
      const leased = await repo.acquireLease('100', 'worker-a', T0 + MINUTE, T0);
      expect(leased).toMatchObject({ userId: '100', leaseOwner: 'worker-a', leaseExpiresAt: T0 + MINUTE, version: 1 });
      expect(await repo.get('100')).toEqual(leased);
    });

    it('refuses a live lease held by another owner and leaves it alone', async () => {
      await repo.save(newToken('100'));
      await repo.acquireLease('100', 'worker-a', T0 + MINUTE, T0);
      expect(await repo.acquireLease('100', 'worker-b', T0 + 2 * MINUTE, T0 + MINUTE - 1)).toBeNull();
      expect(await repo.get('100')).toMatchObject({ leaseOwner: 'worker-a', leaseExpiresAt: T0 + MINUTE });
    });

    it('takes a lapsed lease, lapsing at its deadline exactly', async () => {
      await repo.save(newToken('100'));
      await repo.acquireLease('100', 'worker-a', T0 + MINUTE, T0);
      const taken = await repo.acquireLease('100', 'worker-b', T0 + 2 * MINUTE, T0 + MINUTE);
      expect(taken).toMatchObject({ leaseOwner: 'worker-b', leaseExpiresAt: T0 + 2 * MINUTE, version: 1 });
    });

    it('treats a lease without a deadline (an owner set through update) as lapsed', async () => {
      await repo.save(newToken('100'));
      await repo.update('100', { leaseOwner: 'worker-a' });
      expect(await repo.acquireLease('100', 'worker-b', T0 + MINUTE, T0)).toMatchObject({ leaseOwner: 'worker-b' });
    });

    it('extends the lease for its own holder', async () => {
      await repo.save(newToken('100'));
      await repo.acquireLease('100', 'worker-a', T0 + MINUTE, T0);
      expect(await repo.acquireLease('100', 'worker-a', T0 + 5 * MINUTE, T0 + 1)).toMatchObject({
        leaseOwner: 'worker-a',
        leaseExpiresAt: T0 + 5 * MINUTE,
      });
    });

    it('has no lease to give for a user with no token', async () => {
      expect(await repo.acquireLease('ghost', 'worker-a', T0 + MINUTE, T0)).toBeNull();
    });

    it('releases only for the holder, without touching version', async () => {
      await repo.save(newToken('100'));
      await repo.acquireLease('100', 'worker-a', T0 + MINUTE, T0);
      await repo.releaseLease('100', 'worker-b');
      expect(await repo.get('100')).toMatchObject({ leaseOwner: 'worker-a', leaseExpiresAt: T0 + MINUTE, version: 1 });
      await repo.releaseLease('100', 'worker-a');
      expect(await repo.get('100')).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, version: 1 });
      await expect(repo.releaseLease('ghost', 'worker-a')).resolves.toBeUndefined();
    });

    it('keeps the lease through an update that does not mention it', async () => {
      await repo.save(newToken('100'));
      await repo.acquireLease('100', 'worker-a', T0 + MINUTE, T0);
      expect(await repo.update('100', { accessToken: 'x' })).toMatchObject({ leaseOwner: 'worker-a', leaseExpiresAt: T0 + MINUTE });
    });
  });

  describe('listDueForRefresh', () => {
    const before = T0 + 10 * MINUTE;
    const now = T0;

    it('lists valid, refreshable, not-backed-off tokens expiring by the cut-off, soonest first, ties by userId', async () => {
      await repo.save(newToken('late', { expiresAt: before + 1 }));
      await repo.save(newToken('b-edge', { expiresAt: before }));
      await repo.save(newToken('a-edge', { expiresAt: before }));
      await repo.save(newToken('soon', { expiresAt: T0 + MINUTE }));
      await repo.save(newToken('expired', { expiresAt: T0 - MINUTE }));
      await repo.save(newToken('no-refresh', { expiresAt: T0, refreshToken: null }));
      await repo.save(newToken('never-expires', { expiresAt: null }));
      await repo.save(newToken('dead', { expiresAt: T0, status: 'reauth_required' }));
      await repo.save(newToken('backed-off', { expiresAt: T0, retryAt: now + 1 }));
      await repo.save(newToken('back-off-over', { expiresAt: T0 + 2 * MINUTE, retryAt: now }));
      const due = await repo.listDueForRefresh(before, now, 100);
      expect(due.map((t) => t.userId)).toEqual(['expired', 'soon', 'back-off-over', 'a-edge', 'b-edge']);
      expect(due[0]).toEqual(await repo.get('expired'));
    });

    it('returns at most `limit`, taking the soonest', async () => {
      for (let i = 0; i < 5; i += 1) await repo.save(newToken(`u${i}`, { expiresAt: T0 + (5 - i) * 1000 }));
      expect((await repo.listDueForRefresh(before, now, 2)).map((t) => t.userId)).toEqual(['u4', 'u3']);
    });

    it('does not honour a backoff beyond any real one (written under a clock that ran fast)', async () => {
      const horizon = now + MAX_RETRY_DELAY_MS + CLOCK_SKEW_TOLERANCE_MS;
      await repo.save(newToken('longest-backoff', { expiresAt: T0, retryAt: horizon }));
      await repo.save(newToken('from-the-future', { expiresAt: T0, retryAt: horizon + 1 }));
      expect((await repo.listDueForRefresh(before, now, 100)).map((t) => t.userId)).toEqual(['from-the-future']);
    });
  });

  describe('listDueForValidation', () => {
    const before = T0 - 60 * MINUTE;
    const now = T0;

    it('lists valid, not-backed-off tokens validated by the cut-off, never-validated first, then oldest, ties by userId', async () => {
      await repo.save(newToken('fresh', { lastValidatedAt: before + 1 }));
      await repo.save(newToken('edge', { lastValidatedAt: before }));
      await repo.save(newToken('old', { lastValidatedAt: before - MINUTE }));
      await repo.save(newToken('never-b', { lastValidatedAt: null }));
      await repo.save(newToken('never-a', { lastValidatedAt: null, refreshToken: null }));
      await repo.save(newToken('dead', { lastValidatedAt: null, status: 'reauth_required' }));
      await repo.save(newToken('backed-off', { lastValidatedAt: null, retryAt: now + 1 }));
      const due = await repo.listDueForValidation(before, now, 100);
      expect(due.map((t) => t.userId)).toEqual(['never-a', 'never-b', 'old', 'edge']);
      expect(due[0]!.lastValidatedAt).toBeNull();
    });

    it('returns at most `limit`', async () => {
      for (let i = 0; i < 5; i += 1) await repo.save(newToken(`u${i}`, { lastValidatedAt: before - i }));
      expect((await repo.listDueForValidation(before, now, 3)).map((t) => t.userId)).toEqual(['u4', 'u3', 'u2']);
    });

    it('lists tokens validated in the future (a clock that ran fast) first, and ignores a backoff beyond any real one', async () => {
      const future = now + CLOCK_SKEW_TOLERANCE_MS;
      await repo.save(newToken('old', { lastValidatedAt: before - MINUTE }));
      await repo.save(newToken('skewed-a-little', { lastValidatedAt: future }));
      await repo.save(newToken('fast-clock', { lastValidatedAt: future + 2 * 60 * MINUTE }));
      await repo.save(newToken('fast-backoff', { lastValidatedAt: future + 1, retryAt: future + MAX_RETRY_DELAY_MS + 1 }));
      await repo.save(newToken('fast-dead', { lastValidatedAt: future + 1, status: 'reauth_required' }));
      expect((await repo.listDueForValidation(before, now, 100)).map((t) => t.userId)).toEqual(['fast-backoff', 'fast-clock', 'old']);
      expect((await repo.listDueForValidation(before, now, 1)).map((t) => t.userId)).toEqual(['fast-backoff']);
    });
  });

  describe('under concurrency', () => {
    it('gives one lease to exactly one of 50 simultaneous callers', async () => {
      await repo.save(newToken('100'));
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => repo.acquireLease('100', `worker-${i}`, T0 + MINUTE, T0)));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(await repo.get('100')).toMatchObject({ leaseOwner: winners[0]!.leaseOwner, version: 1 });
    });

    it('lets exactly one of 20 compare-and-set updates with the same version succeed', async () => {
      const saved = await repo.save(newToken('100'));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => repo.update('100', { accessToken: `token-${i}` }, { version: saved.version })),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(await repo.get('100')).toEqual(winners[0]);
      expect(winners[0]!.version).toBe(saved.version + 1);
    });

    it('survives simultaneous saves of one new user, counting every save in version', async () => {
      const saves = 10;
      const results = await Promise.all(
        Array.from({ length: saves }, (_, i) => repo.save(newToken('100', { accessToken: `token-${i}`, intents: ['chat'] }))),
      );
      const stored = (await repo.get('100'))!;
      expect(stored.version).toBe(saves);
      expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: saves }, (_, i) => i + 1));
      expect(results.find((r) => r.version === saves)?.accessToken).toBe(stored.accessToken);
      expect(await repo.findByIntent('chat')).toMatchObject({ userId: '100' });
    });

    it('keeps every intent with at most one user through 300 simultaneous saves, updates and deletes', async () => {
      const results = await Promise.allSettled(intentChurn([repo], 300));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      await expectIntentsConsistent(repo);
    });
  });
}
