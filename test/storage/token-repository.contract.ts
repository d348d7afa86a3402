import type { StoredToken, TokenRepository } from '../../src/twitch-auth/storage/token-repository.interface.js';
import { newToken, T0 } from './token-fixtures.js';
import { describeBatchContract } from './token-repository.batches.contract.js';
import { describeLeaseAndDueContract } from './token-repository.leases.contract.js';

/** What a contract run needs: a repository on an empty store, and how to dispose of it. */
export interface ContractSubject {
  repository: TokenRepository;
  teardown(): Promise<void>;
}

/**
 * The semantics every `TokenRepository` must have, stated once and run
 * against each implementation. A custom repository passes this or it will
 * break refresh-once and lease guarantees the module relies on.
 */
export function describeTokenRepositoryContract(name: string, setup: () => Promise<ContractSubject>): void {
  describe(`TokenRepository contract: ${name}`, () => {
    let subject: ContractSubject;
    let repo: TokenRepository;
    beforeEach(async () => {
      subject = await setup();
      repo = subject.repository;
    });
    afterEach(async () => {
      await subject.teardown();
    });

    describe('get, list and save', () => {
      it('knows nothing about a user never saved', async () => {
        expect(await repo.get('nobody')).toBeNull();
        expect(await repo.list()).toEqual([]);
        expect(await repo.findByIntent('chat')).toBeNull();
      });

      it('stores every field as given, with version 1, no lease and no back-off', async () => {
        const given = newToken('100', { login: null, refreshToken: null, expiresAt: null, lastValidatedAt: null, scopes: ['b', 'a'] });
        const expected: StoredToken = { ...given, retryAt: 0, failureCount: 0, version: 1, leaseOwner: null, leaseExpiresAt: null };
        expect(await repo.save(given)).toEqual(expected);
        expect(await repo.get('100')).toEqual(expected);
      });

      it('keeps back-off fields given to save', async () => {
        const saved = await repo.save(newToken('100', { retryAt: T0 + 5, failureCount: 3 }));
        expect(saved).toMatchObject({ retryAt: T0 + 5, failureCount: 3 });
        expect(await repo.get('100')).toMatchObject({ retryAt: T0 + 5, failureCount: 3 });
      });

      it('replaces the whole token on a second save (a new grant wins), increments version and clears the lease', async () => {
        await repo.save(newToken('100', { login: 'old', retryAt: T0 + 1, failureCount: 2 }));
        await repo.acquireLease('100', 'worker-a', T0 + 60_000, T0);
        const again = newToken('100', { accessToken: 'new', refreshToken: null, scopes: ['x'], login: 'new', status: 'reauth_required' });
        const saved = await repo.save(again);
        expect(saved).toEqual({ ...again, retryAt: 0, failureCount: 0, version: 2, leaseOwner: null, leaseExpiresAt: null });
        expect(await repo.get('100')).toEqual(saved);
      });

      it('lists every token ordered by userId', async () => {
        for (const id of ['u3', 'u1', 'u2']) await repo.save(newToken(id));
        expect((await repo.list()).map((t) => t.userId)).toEqual(['u1', 'u2', 'u3']);
      });

      it('hands out copies: mutating a returned token changes nothing stored', async () => {
        const saved = await repo.save(newToken('100', { intents: ['chat'] }));
        saved.scopes.push('mutated');
        saved.intents.push('mutated');
        const read = (await repo.get('100'))!;
        read.scopes.push('mutated');
        expect(await repo.get('100')).toMatchObject({ scopes: ['chat:read', 'chat:edit'], intents: ['chat'] });
      });
    });

    describe('update', () => {
      it('changes only the given fields and increments version', async () => {
        const before = await repo.save(newToken('100'));
        const updated = await repo.update('100', { accessToken: 'a2', expiresAt: T0 + 7_200_000, failureCount: 1, login: undefined });
        expect(updated).toEqual({ ...before, accessToken: 'a2', expiresAt: T0 + 7_200_000, failureCount: 1, version: 2 });
        expect(await repo.get('100')).toEqual(updated);
      });

      it('can set nullable fields to null', async () => {
        await repo.save(newToken('100'));
        const updated = await repo.update('100', { refreshToken: null, expiresAt: null, lastValidatedAt: null, login: null });
        expect(updated).toMatchObject({ refreshToken: null, expiresAt: null, lastValidatedAt: null, login: null });
        expect(await repo.get('100')).toEqual(updated);
      });

      it('writes when the expected version matches, and writes nothing when it does not', async () => {
        await repo.save(newToken('100'));
        expect(await repo.update('100', { accessToken: 'stale' }, { version: 7 })).toBeNull();
        expect(await repo.get('100')).toMatchObject({ accessToken: 'access-100', version: 1 });
        expect(await repo.update('100', { accessToken: 'fresh' }, { version: 1 })).toMatchObject({ accessToken: 'fresh', version: 2 });
      });

      it('writes only for the lease holder when a lease owner is required, even after the lease lapsed', async () => {
        await repo.save(newToken('100'));
        expect(await repo.update('100', { accessToken: 'x' }, { leaseOwner: 'worker-a' })).toBeNull();
        await repo.acquireLease('100', 'worker-a', T0 + 1_000, T0);
        expect(await repo.update('100', { accessToken: 'x' }, { leaseOwner: 'worker-b' })).toBeNull();
        expect(await repo.get('100')).toMatchObject({ accessToken: 'access-100', version: 1 });
        const byHolder = await repo.update('100', { accessToken: 'y' }, { leaseOwner: 'worker-a', version: 1 });
        expect(byHolder).toMatchObject({ accessToken: 'y', version: 2, leaseOwner: 'worker-a', leaseExpiresAt: T0 + 1_000 });
      });

      it('requires every given condition', async () => {
        await repo.save(newToken('100'));
        await repo.acquireLease('100', 'worker-a', T0 + 1_000, T0);
        expect(await repo.update('100', { accessToken: 'x' }, { leaseOwner: 'worker-a', version: 5 })).toBeNull();
        expect(await repo.update('100', { accessToken: 'x' }, { leaseOwner: 'worker-b', version: 1 })).toBeNull();
      });

      it('releases the lease when told leaseOwner: null', async () => {
        await repo.save(newToken('100'));
        await repo.acquireLease('100', 'worker-a', T0 + 1_000, T0);
        const released = await repo.update('100', { accessToken: 'new', leaseOwner: null }, { leaseOwner: 'worker-a' });
        expect(released).toMatchObject({ accessToken: 'new', leaseOwner: null, leaseExpiresAt: null, version: 2 });
        expect(await repo.acquireLease('100', 'worker-b', T0 + 1_000, T0)).not.toBeNull();
      });

      it('returns null for a user with no token', async () => {
        expect(await repo.update('ghost', { accessToken: 'x' })).toBeNull();
        expect(await repo.get('ghost')).toBeNull();
      });
    });

    describe('delete', () => {
      it('removes the token and frees its intents', async () => {
        await repo.save(newToken('100', { intents: ['chat'] }));
        expect(await repo.delete('100')).toBe(true);
        expect(await repo.get('100')).toBeNull();
        expect(await repo.findByIntent('chat')).toBeNull();
        expect(await repo.delete('100')).toBe(false);
        await repo.save(newToken('200', { intents: ['chat'] }));
        expect(await repo.findByIntent('chat')).toMatchObject({ userId: '200', intents: ['chat'] });
      });
    });

    describe('intents', () => {
      it('finds the token serving an intent', async () => {
        await repo.save(newToken('100', { intents: ['chat', 'mod'] }));
        await repo.save(newToken('200', { intents: ['events'] }));
        expect(await repo.findByIntent('mod')).toMatchObject({ userId: '100', intents: ['chat', 'mod'] });
        expect(await repo.findByIntent('events')).toMatchObject({ userId: '200' });
        expect(await repo.findByIntent('unknown')).toBeNull();
      });

      it('moves an intent saved for another user, bumping the previous holder version', async () => {
        await repo.save(newToken('100', { intents: ['chat', 'mod', 'vip'] }));
        await repo.save(newToken('200', { intents: ['chat'] }));
        expect(await repo.findByIntent('chat')).toMatchObject({ userId: '200' });
        expect(await repo.get('100')).toMatchObject({ intents: ['mod', 'vip'], version: 2 });
      });

      it("replaces a user's own intents and moves intents given to update", async () => {
        await repo.save(newToken('100', { intents: ['chat', 'mod'] }));
        await repo.save(newToken('200', { intents: ['events'] }));
        expect(await repo.update('200', { intents: ['mod', 'whispers'] })).toMatchObject({ intents: ['mod', 'whispers'], version: 2 });
        expect(await repo.findByIntent('events')).toBeNull();
        expect(await repo.findByIntent('mod')).toMatchObject({ userId: '200' });
        expect(await repo.get('100')).toMatchObject({ intents: ['chat'], version: 2 });
      });

      it('keeps the intents a row holds when it is saved again, adding the given ones', async () => {
        await repo.save(newToken('100', { intents: ['chat'] }));
        expect(await repo.save(newToken('100', { accessToken: 'new' }))).toMatchObject({ accessToken: 'new', intents: ['chat'] });
        expect(await repo.save(newToken('100', { intents: ['mod', 'chat'] }))).toMatchObject({ intents: ['chat', 'mod'] });
        expect(await repo.findByIntent('chat')).toMatchObject({ userId: '100' });
        expect(await repo.findByIntent('mod')).toMatchObject({ userId: '100' });
      });

      it('never takes back on save an intent moved away from the row since it was last read', async () => {
        const seen = await repo.save(newToken('100', { intents: ['chat', 'mod'] }));
        await repo.save(newToken('200'));
        await repo.update('200', { intents: ['chat'] });
        // A re-login of 100 that read its intents before the move: the row as it is now decides, not that read.
        const saved = await repo.save(newToken('100', { accessToken: 'relogin', intents: [] }));
        expect(seen.intents).toEqual(['chat', 'mod']);
        expect(saved).toMatchObject({ accessToken: 'relogin', intents: ['mod'] });
        expect(await repo.findByIntent('chat')).toMatchObject({ userId: '200', intents: ['chat'] });
      });

      it('leaves an intent with exactly one user when two claim it at once', async () => {
        await repo.save(newToken('100'));
        await repo.save(newToken('200'));
        await Promise.all([
          repo.update('100', { intents: ['chat'] }),
          repo.update('200', { intents: ['chat'] }),
          repo.save(newToken('300', { intents: ['chat'] })),
        ]);
        const holders = (await repo.list()).filter((t) => t.intents.includes('chat')).map((t) => t.userId);
        expect(holders).toHaveLength(1);
        expect((await repo.findByIntent('chat'))?.userId).toBe(holders[0]);
      });
    });

    describeLeaseAndDueContract(() => repo);
    describeBatchContract(() => repo);
  });
}
