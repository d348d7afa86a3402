import { DataSource } from 'typeorm';
import {
  InMemoryEventSubSubscriptionStore,
  TypeOrmEventSubSubscriptionStore,
  dataSourceOptionsFromUrl,
  eventSubSubscriptionKey,
  type EventSubSubscriptionStore,
  type StoredEventSubSubscription,
} from '../../src/twitch-auth/index.js';
import { requirePostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

function row(userId: string, type: string, condition: Record<string, string>, createdAt: number): StoredEventSubSubscription {
  return {
    key: eventSubSubscriptionKey(userId, type, '1', condition),
    userId,
    type,
    version: '1',
    condition,
    scopes: ['a:b', 'c:d'],
    createdAt: new Date(createdAt),
    subscriptionId: null,
  };
}

/** The semantics every EventSubSubscriptionStore keeps; run against each implementation. */
function describeStoreContract(name: string, setup: () => Promise<{ store: EventSubSubscriptionStore; teardown(): Promise<void> } | null>) {
  describe(`EventSubSubscriptionStore contract: ${name}`, () => {
    let store: EventSubSubscriptionStore | null = null;
    let teardown: () => Promise<void> = async () => {};

    beforeAll(async () => {
      const made = await setup();
      if (made) ({ store, teardown } = made);
    }, 120_000);
    afterAll(() => teardown());

    it('saves, lists oldest first (per user or all), replaces by key and deletes', async () => {
      if (!store) return;
      const first = row('1', 'stream.online', { broadcaster_user_id: '5' }, 1_000);
      const second = row('2', 'channel.follow', { broadcaster_user_id: '2', moderator_user_id: '2' }, 2_000);
      const third = row('1', 'stream.offline', { broadcaster_user_id: '5' }, 3_000);
      await store.save(third);
      await store.save(first);
      await store.save(second);
      expect(await store.list()).toEqual([first, second, third]);
      expect(await store.list('1')).toEqual([first, third]);
      await store.save({ ...first, scopes: [] });
      expect(await store.list('1')).toEqual([{ ...first, scopes: [] }, third]);
      expect(await store.delete(first.key)).toBe(true);
      expect(await store.delete(first.key)).toBe(false);
      expect(await store.list()).toEqual([second, third]);
      // The id Twitch gave the subscription last is kept, and replaced with the row.
      await store.save({ ...third, subscriptionId: 'f6a1c3e0-0000-4000-8000-000000000001' });
      expect((await store.list('1'))[0]!.subscriptionId).toBe('f6a1c3e0-0000-4000-8000-000000000001');
      await store.save({ ...third, subscriptionId: null });
      expect(await store.list('1')).toEqual([third]);
    });
  });
}

describe('eventSubSubscriptionKey', () => {
  it('is the same for the same subscription however the condition is written, and differs otherwise', () => {
    const key = eventSubSubscriptionKey('1', 'channel.follow', '2', { moderator_user_id: '1', broadcaster_user_id: '1' });
    expect(eventSubSubscriptionKey('1', 'channel.follow', '2', { broadcaster_user_id: '1', moderator_user_id: '1', user_id: '' })).toBe(
      key,
    );
    expect(eventSubSubscriptionKey('2', 'channel.follow', '2', { broadcaster_user_id: '1', moderator_user_id: '1' })).not.toBe(key);
    expect(eventSubSubscriptionKey('1', 'channel.follow', '1', { broadcaster_user_id: '1', moderator_user_id: '1' })).not.toBe(key);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });
});

describeStoreContract('in-memory', async () => ({ store: new InMemoryEventSubSubscriptionStore(), teardown: async () => {} }));

async function typeOrmStore(url: string, cleanup: () => Promise<void>) {
  const dataSource = await new DataSource(dataSourceOptionsFromUrl(url)).initialize();
  return {
    store: new TypeOrmEventSubSubscriptionStore(dataSource),
    teardown: async () => {
      await dataSource.destroy();
      await cleanup();
    },
  };
}

describeStoreContract('TypeORM on a SQLite file', async () => {
  const dir = tempDir();
  return typeOrmStore(`sqlite:${dir.path}/subscriptions.sqlite`, async () => dir.remove());
});

describeStoreContract('TypeORM on Postgres', async () => {
  const postgres: ThrowawayPostgres | null = await requirePostgres('EventSubSubscriptionStore on Postgres');
  if (!postgres) return null;
  return typeOrmStore(postgres.url, () => postgres.stop());
});
