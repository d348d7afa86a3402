import { DataSource } from 'typeorm';
import {
  InMemoryEventSubSocketLeaseStore,
  TypeOrmEventSubSocketLeaseStore,
  dataSourceOptionsFromUrl,
  type EventSubSocketLeaseStore,
} from '../../src/twitch-auth/index.js';
import { requirePostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

const LEASE = 5_000;
let userCounter = 0;

/** The semantics every EventSubSocketLeaseStore keeps; two handles stand for two instances on one database. */
function describeSocketLeaseStoreContract(
  name: string,
  setup: () => Promise<{ stores: [EventSubSocketLeaseStore, EventSubSocketLeaseStore]; teardown(): Promise<void> } | null>,
) {
  describe(`EventSubSocketLeaseStore contract: ${name}`, () => {
    let stores: [EventSubSocketLeaseStore, EventSubSocketLeaseStore] | null = null;
    let teardown: () => Promise<void> = async () => {};
    /** Users and owners of their own for each test (the tables are shared by the tests of one store). */
    let prefix = '';
    const user = (n: number) => `${prefix}u${n}`;
    const ownedBy = async (store: EventSubSocketLeaseStore) =>
      (await store.list()).filter((lease) => lease.userId.startsWith(prefix)).map((lease) => [lease.userId, lease.owner]);

    beforeAll(async () => {
      const made = await setup();
      if (made) ({ stores, teardown } = made);
    }, 120_000);
    afterAll(() => teardown());
    beforeEach(() => {
      prefix = `t${++userCounter}-`;
    });

    it('takes free users, never a live lease of another owner, and takes its own again', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const now = Date.now();
      expect(await a.claim(`${prefix}a`, [user(1), user(2)], now + LEASE, now)).toEqual([user(1), user(2)]);
      expect(await b.claim(`${prefix}b`, [user(2), user(3)], now + LEASE, now)).toEqual([user(3)]);
      expect(await a.claim(`${prefix}a`, [user(1), user(3)], now + 2 * LEASE, now)).toEqual([user(1)]);
      expect(await ownedBy(b)).toEqual([
        [user(1), `${prefix}a`],
        [user(2), `${prefix}a`],
        [user(3), `${prefix}b`],
      ]);
      expect((await a.list()).find((lease) => lease.userId === user(1))?.leaseExpiresAt).toBe(now + 2 * LEASE);
    });

    it('lets another owner take a lapsed lease; the old owner no longer renews it', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const now = Date.now();
      const dead = `${prefix}dead`;
      const heir = `${prefix}heir`;
      expect(await a.claim(dead, [user(1), user(2)], now + LEASE, now)).toEqual([user(1), user(2)]);
      // One millisecond early the lease still holds; at its expiry it is free.
      expect(await b.claim(heir, [user(1)], now + 2 * LEASE, now + LEASE - 1)).toEqual([]);
      expect(await b.claim(heir, [user(1), user(2)], now + 2 * LEASE, now + LEASE)).toEqual([user(1), user(2)]);
      expect(await a.renew(dead, now + 3 * LEASE)).toEqual([]);
      expect(await b.renew(heir, now + 3 * LEASE)).toEqual([user(1), user(2)]);
      const leases = (await a.list()).filter((lease) => lease.userId.startsWith(prefix));
      expect(leases.every((lease) => lease.owner === heir && lease.leaseExpiresAt === now + 3 * LEASE)).toBe(true);
    });

    it('releases only its own users; leave frees everything and forgets the heartbeat', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const now = Date.now();
      const [ownerA, ownerB] = [`${prefix}a`, `${prefix}b`];
      await a.claim(ownerA, [user(1), user(2)], now + LEASE, now);
      await b.claim(ownerB, [user(3), user(4)], now + LEASE, now);
      await a.release(ownerA, [user(1), user(3)]);
      expect(await ownedBy(a)).toEqual([
        [user(2), ownerA],
        [user(3), ownerB],
        [user(4), ownerB],
      ]);
      // A released user is free at once.
      expect(await b.claim(ownerB, [user(1)], now + LEASE, now)).toEqual([user(1)]);
      expect((await a.announce(ownerA, now + LEASE, now)).filter((m) => m.startsWith(prefix))).toEqual([ownerA]);
      expect((await b.announce(ownerB, now + LEASE, now)).filter((m) => m.startsWith(prefix))).toEqual([ownerA, ownerB]);
      await b.leave(ownerB);
      expect(await ownedBy(a)).toEqual([[user(2), ownerA]]);
      expect((await a.announce(ownerA, now + LEASE, now)).filter((m) => m.startsWith(prefix))).toEqual([ownerA]);
      expect(await a.claim(ownerA, [user(3), user(4)], now + LEASE, now)).toEqual([user(3), user(4)]);
    });

    it('forgets instances whose heartbeat lapsed', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const now = Date.now();
      const [early, late] = [`${prefix}early`, `${prefix}late`];
      await a.announce(early, now + LEASE, now);
      await b.announce(late, now + 3 * LEASE, now);
      expect((await a.announce(early, now + LEASE, now)).filter((m) => m.startsWith(prefix))).toEqual([early, late]);
      expect((await b.announce(late, now + 4 * LEASE, now + 2 * LEASE)).filter((m) => m.startsWith(prefix))).toEqual([late]);
    });

    it('8 owners racing for the same 12 users through two handles: every user has exactly one holder', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const now = Date.now();
      const users = Array.from({ length: 12 }, (_, i) => user(i));
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claim(`${prefix}owner-${i}`, users, now + LEASE, now)),
      );
      expect(
        won
          .flat()
          .sort()
          .filter((id, i, all) => all.indexOf(id) === i),
      ).toEqual([...users].sort());
      expect(won.flat()).toHaveLength(12);
      const leases = new Map((await a.list()).map((lease) => [lease.userId, lease.owner]));
      for (const [i, ids] of won.entries()) for (const id of ids) expect(leases.get(id)).toBe(`${prefix}owner-${i}`);
    });

    it('a lapsed lease raced for by 8 owners goes to exactly one', async () => {
      if (!stores) return;
      const [a, b] = stores;
      const now = Date.now();
      await a.claim(`${prefix}dead`, [user(1)], now + LEASE, now);
      const later = now + LEASE + 1;
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claim(`${prefix}heir-${i}`, [user(1)], later + LEASE, later)),
      );
      expect(won.flat()).toEqual([user(1)]);
    });
  });
}

describeSocketLeaseStoreContract('in-memory', async () => {
  const store = new InMemoryEventSubSocketLeaseStore();
  return { stores: [store, store], teardown: async () => {} };
});

async function typeOrmStores(url: string, cleanup: () => Promise<void>) {
  const first = await new DataSource(dataSourceOptionsFromUrl(url)).initialize();
  const second = await new DataSource(dataSourceOptionsFromUrl(url)).initialize();
  return {
    stores: [new TypeOrmEventSubSocketLeaseStore(first), new TypeOrmEventSubSocketLeaseStore(second)] as [
      EventSubSocketLeaseStore,
      EventSubSocketLeaseStore,
    ],
    teardown: async () => {
      await first.destroy();
      await second.destroy();
      await cleanup();
    },
  };
}

describeSocketLeaseStoreContract('TypeORM on a SQLite file (two connections)', async () => {
  const dir = tempDir();
  return typeOrmStores(`sqlite:${dir.path}/leases.sqlite`, async () => dir.remove());
});

describeSocketLeaseStoreContract('TypeORM on Postgres (two connections)', async () => {
  const postgres: ThrowawayPostgres | null = await requirePostgres('EventSubSocketLeaseStore on Postgres');
  if (!postgres) return null;
  return typeOrmStores(postgres.url, () => postgres.stop());
});
