import { DataSource } from 'typeorm';
import {
  EVENTSUB_CLAIM_NAMESPACE,
  IN_MEMORY_CLAIM_LIMIT,
  InMemoryClaimStore,
  TypeOrmClaimStore,
  dataSourceOptionsFromUrl,
  type ClaimStore,
} from '../../src/twitch-auth/index.js';
import { requirePostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

/** The semantics every ClaimStore keeps; run against each implementation. */
function describeClaimStoreContract(
  name: string,
  setup: () => Promise<{ stores: [ClaimStore, ClaimStore]; teardown(): Promise<void> } | null>,
) {
  describe(`ClaimStore contract: ${name}`, () => {
    let stores: [ClaimStore, ClaimStore] | null = null;
    let teardown: () => Promise<void> = async () => {};

    beforeAll(async () => {
      const made = await setup();
      if (made) ({ stores, teardown } = made);
    }, 120_000);
    afterAll(() => teardown());

    it('grants the first claim of a key and refuses the next ones while it lives', async () => {
      if (!stores) return;
      const [a] = stores;
      const until = Date.now() + 60_000;
      expect(await a.claim('ns', 'k1', until)).toBe(true);
      expect(await a.claim('ns', 'k1', until)).toBe(false);
      expect(await a.claim('other-ns', 'k1', until)).toBe(true);
    });

    it('lets an expired key be claimed again', async () => {
      if (!stores) return;
      const [a] = stores;
      expect(await a.claim('ns', 'k2', Date.now() - 1)).toBe(true);
      expect(await a.claim('ns', 'k2', Date.now() + 60_000)).toBe(true);
      expect(await a.claim('ns', 'k2', Date.now() + 60_000)).toBe(false);
    });

    it('keeps very long keys apart', async () => {
      if (!stores) return;
      const [a] = stores;
      const long = 'x'.repeat(500);
      expect(await a.claim('ns', long + 'a', Date.now() + 60_000)).toBe(true);
      expect(await a.claim('ns', long + 'b', Date.now() + 60_000)).toBe(true);
      expect(await a.claim('ns', long + 'a', Date.now() + 60_000)).toBe(false);
    });

    it('50 concurrent claims of one key through two handles: exactly one wins', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const until = Date.now() + 60_000;
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).claim('race', 'same', until)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}

describeClaimStoreContract('in-memory', async () => {
  const store = new InMemoryClaimStore();
  return { stores: [store, store], teardown: async () => {} };
});

async function typeOrmStores(url: string, cleanup: () => Promise<void>) {
  const first = await new DataSource(dataSourceOptionsFromUrl(url)).initialize();
  const second = await new DataSource(dataSourceOptionsFromUrl(url)).initialize();
  return {
    stores: [new TypeOrmClaimStore(first), new TypeOrmClaimStore(second)] as [ClaimStore, ClaimStore],
    teardown: async () => {
      await first.destroy();
      await second.destroy();
      await cleanup();
    },
  };
}

describeClaimStoreContract('TypeORM on a SQLite file (two connections)', async () => {
  const dir = tempDir();
  return typeOrmStores(`sqlite:${dir.path}/claims.sqlite`, async () => dir.remove());
});

describeClaimStoreContract('TypeORM on Postgres (two connections)', async () => {
  const postgres: ThrowawayPostgres | null = await requirePostgres('ClaimStore on Postgres');
  if (!postgres) return null;
  return typeOrmStores(postgres.url, () => postgres.stop());
});

describe('InMemoryClaimStore bound', () => {
  it('forgets the oldest keys past its limit', async () => {
    const store = new InMemoryClaimStore(3);
    for (const key of ['a', 'b', 'c', 'd']) await store.claim('ns', key, Date.now() + 60_000);
    expect(store.size).toBe(3);
    expect(await store.claim('ns', 'a', Date.now() + 60_000)).toBe(true);
    expect(await store.claim('ns', 'd', Date.now() + 60_000)).toBe(false);
  });
});

describe('InMemoryClaimStore at its bound', () => {
  it('stays bounded and keeps refusing live keys over many times its limit of claims', async () => {
    const store = new InMemoryClaimStore(1_000);
    const until = Date.now() + 60_000;
    for (let i = 0; i < 20_000; i++) expect(await store.claim('ns', `k${i}`, until)).toBe(true);
    expect(store.size).toBe(1_000);
    expect(await store.claim('ns', 'k19999', until)).toBe(false);
    expect(await store.claim('ns', 'k18999', until)).toBe(true);
  });

  it('a key re-claimed after expiring is not evicted by its stale first record', async () => {
    const store = new InMemoryClaimStore(2);
    await store.claim('ns', 'a', Date.now() - 1);
    await store.claim('ns', 'a', Date.now() + 60_000);
    await store.claim('ns', 'b', Date.now() + 60_000);
    expect(await store.claim('ns', 'a', Date.now() + 60_000)).toBe(false);
  });
});

describe('InMemoryClaimStore namespaces', () => {
  it('a flood of OAuth states past the bound does not evict a live EventSub message id: its redelivery is still a duplicate', async () => {
    const store = new InMemoryClaimStore();
    const until = Date.now() + 60_000;
    expect(await store.claim(EVENTSUB_CLAIM_NAMESPACE, 'message-1', until)).toBe(true);
    // The namespace OAuthStateService redeems states in; anyone can start authorizations.
    for (let i = 0; i <= IN_MEMORY_CLAIM_LIMIT; i++) await store.claim('oauth-state', `state-${i}`, until);
    expect(await store.claim(EVENTSUB_CLAIM_NAMESPACE, 'message-1', until)).toBe(false);
    // The flooded namespace is bounded on its own.
    expect(store.size).toBe(IN_MEMORY_CLAIM_LIMIT + 1);
    expect(await store.claim('oauth-state', 'state-0', until)).toBe(true);
  });
});
