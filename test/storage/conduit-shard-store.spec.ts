import { DataSource } from 'typeorm';
import {
  InMemoryConduitShardStore,
  TypeOrmConduitShardStore,
  dataSourceOptionsFromUrl,
  type ConduitShardStore,
} from '../../src/twitch-auth/index.js';
import { requirePostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

const LEASE = 5_000;
let conduitCounter = 0;

/** The semantics every ConduitShardStore keeps; two handles stand for two instances on one database. */
function describeConduitShardStoreContract(
  name: string,
  setup: () => Promise<{ stores: [ConduitShardStore, ConduitShardStore]; teardown(): Promise<void> } | null>,
) {
  describe(`ConduitShardStore contract: ${name}`, () => {
    let stores: [ConduitShardStore, ConduitShardStore] | null = null;
    let teardown: () => Promise<void> = async () => {};
    /** A conduit of its own for each test. */
    let conduit = '';

    beforeAll(async () => {
      const made = await setup();
      if (made) ({ stores, teardown } = made);
    }, 120_000);
    afterAll(() => teardown());
    beforeEach(() => {
      conduit = `conduit-${++conduitCounter}`;
    });

    it('stores the conduit id of a name, and replaces it', async () => {
      if (!stores) return;
      const [a, b] = stores;
      expect(await a.findConduitId(`name-${conduit}`)).toBeNull();
      await a.saveConduitId(`name-${conduit}`, 'c-1');
      expect(await b.findConduitId(`name-${conduit}`)).toBe('c-1');
      await b.saveConduitId(`name-${conduit}`, 'c-2');
      expect(await a.findConduitId(`name-${conduit}`)).toBe('c-2');
    });

    it('adds and removes shard rows with the shard count', async () => {
      if (!stores) return;
      const [a] = stores;
      await a.setShardCount(conduit, 4);
      expect((await a.list(conduit)).map((shard) => shard.shardId)).toEqual([0, 1, 2, 3]);
      const now = Date.now();
      expect(await a.claim(conduit, 'x', 4, now + LEASE, now)).toEqual([0, 1, 2, 3]);
      await a.setShardCount(conduit, 2);
      expect(await a.renew(conduit, 'x', now + LEASE)).toEqual([0, 1]);
      await a.setShardCount(conduit, 3);
      const shards = await a.list(conduit);
      expect(shards.map((shard) => [shard.shardId, shard.owner])).toEqual([
        [0, 'x'],
        [1, 'x'],
        [2, null],
      ]);
    });

    it('claims at most the number asked, lowest free ids first, and never a live lease of another owner', async () => {
      if (!stores) return;
      const [a, b] = stores;
      await a.setShardCount(conduit, 5);
      const now = Date.now();
      expect(await a.claim(conduit, 'a', 2, now + LEASE, now)).toEqual([0, 1]);
      expect(await b.claim(conduit, 'b', 10, now + LEASE, now)).toEqual([2, 3, 4]);
      expect(await a.claim(conduit, 'a', 10, now + LEASE, now)).toEqual([]);
    });

    it('lets another owner take a lapsed lease; the old owner no longer renews it', async () => {
      if (!stores) return;
      const [a, b] = stores;
      await a.setShardCount(conduit, 2);
      const now = Date.now();
      expect(await a.claim(conduit, 'dead', 2, now + LEASE, now)).toEqual([0, 1]);
      expect(await b.claim(conduit, 'heir', 2, now + 2 * LEASE, now + LEASE)).toEqual([0, 1]);
      expect(await a.renew(conduit, 'dead', now + 3 * LEASE)).toEqual([]);
      expect(await b.renew(conduit, 'heir', now + 3 * LEASE)).toEqual([0, 1]);
      expect((await a.list(conduit)).every((shard) => shard.leaseExpiresAt === now + 3 * LEASE)).toBe(true);
    });

    it('releases only its own shards; leave frees everything and forgets the heartbeat', async () => {
      if (!stores) return;
      const [a, b] = stores;
      await a.setShardCount(conduit, 4);
      const now = Date.now();
      await a.claim(conduit, 'a', 2, now + LEASE, now);
      await b.claim(conduit, 'b', 2, now + LEASE, now);
      await a.release(conduit, 'a', [0, 2]);
      expect((await a.list(conduit)).map((shard) => shard.owner)).toEqual([null, 'a', 'b', 'b']);
      expect(await a.announce(conduit, 'a', now + LEASE, now)).toEqual(['a']);
      expect(await b.announce(conduit, 'b', now + LEASE, now)).toEqual(['a', 'b']);
      await b.leave(conduit, 'b');
      expect((await a.list(conduit)).map((shard) => shard.owner)).toEqual([null, 'a', null, null]);
      expect(await a.announce(conduit, 'a', now + LEASE, now)).toEqual(['a']);
    });

    it('forgets instances whose heartbeat lapsed', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const now = Date.now();
      await a.announce(conduit, 'early', now + LEASE, now);
      await b.announce(conduit, 'late', now + 3 * LEASE, now);
      expect(await a.announce(conduit, 'early', now + LEASE, now)).toEqual(['early', 'late']);
      expect(await b.announce(conduit, 'late', now + 4 * LEASE, now + 2 * LEASE)).toEqual(['late']);
    });

    it('records an association only for the holder of the shard', async () => {
      if (!stores) return;
      const [a, b] = stores;
      await a.setShardCount(conduit, 1);
      const now = Date.now();
      await a.claim(conduit, 'a', 1, now + LEASE, now);
      expect(await b.recordAssociation(conduit, 0, 'b', 'session-b', now)).toBe(false);
      expect(await a.recordAssociation(conduit, 0, 'a', 'session-a', now + 1)).toBe(true);
      expect(await b.list(conduit)).toEqual([
        { shardId: 0, owner: 'a', leaseExpiresAt: now + LEASE, sessionId: 'session-a', associatedAt: now + 1 },
      ]);
    });

    it('8 owners racing for 16 shards through two handles: every shard has exactly one holder', async () => {
      if (!stores) return;
      const [a, b] = stores;
      await a.setShardCount(conduit, 16);
      const now = Date.now();
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claim(conduit, `owner-${i}`, 16, now + LEASE, now)),
      );
      const all = won.flat().sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: 16 }, (_, i) => i));
      const shards = await a.list(conduit);
      for (const [i, ids] of won.entries()) for (const id of ids) expect(shards[id]!.owner).toBe(`owner-${i}`);
    });
  });
}

describeConduitShardStoreContract('in-memory', async () => {
  const store = new InMemoryConduitShardStore();
  return { stores: [store, store], teardown: async () => {} };
});

async function typeOrmStores(url: string, cleanup: () => Promise<void>) {
  const first = await new DataSource(dataSourceOptionsFromUrl(url)).initialize();
  const second = await new DataSource(dataSourceOptionsFromUrl(url)).initialize();
  return {
    stores: [new TypeOrmConduitShardStore(first), new TypeOrmConduitShardStore(second)] as [ConduitShardStore, ConduitShardStore],
    teardown: async () => {
      await first.destroy();
      await second.destroy();
      await cleanup();
    },
  };
}

describeConduitShardStoreContract('TypeORM on a SQLite file (two connections)', async () => {
  const dir = tempDir();
  return typeOrmStores(`sqlite:${dir.path}/conduit.sqlite`, async () => dir.remove());
});

describeConduitShardStoreContract('TypeORM on Postgres (two connections)', async () => {
  const postgres: ThrowawayPostgres | null = await requirePostgres('ConduitShardStore on Postgres');
  if (!postgres) return null;
  return typeOrmStores(postgres.url, () => postgres.stop());
});
