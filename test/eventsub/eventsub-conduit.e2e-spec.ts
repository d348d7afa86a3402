import {
  EventSubConduitShards,
  EventSubService,
  TwitchAuthHealthIndicator,
  type EventSubNotification,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/refresh-scenario.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

/** Generous: the machine is shared and loaded. */
const WAIT_MS = 30_000;

const FOLLOW = {
  user_id: '1',
  user_login: 'a',
  user_name: 'A',
  broadcaster_user_id: '42',
  broadcaster_user_login: 'b',
  broadcaster_user_name: 'B',
  followed_at: '2026-12-02T00:00:00Z',
};

describe('EventSub conduit (one process, then two, on SQLite)', () => {
  let fake: FakeTwitch;
  let dir: ReturnType<typeof tempDir>;
  const apps: TestApp[] = [];

  const start = async (shardCount: number | 'auto' = 2): Promise<TestApp> => {
    const app = await createTestApp({
      fake,
      databaseUrl: `sqlite:${dir.path}/conduit.sqlite`,
      options: {
        oauth: { enabled: false },
        twitch: {
          idBaseUrl: fake.idBaseUrl,
          helixBaseUrl: fake.helixBaseUrl,
          eventSubWebSocketUrl: fake.eventSubWebSocketUrl,
          timeoutMs: 5_000,
        },
        eventSub: { conduit: { shardCount, leaseSeconds: 3, renewSeconds: 0.5 } },
      },
    });
    apps.push(app);
    return app;
  };
  const shards = (app: TestApp) => app.app.get(EventSubConduitShards);
  const enabledShards = () => (fake.conduits()[0]?.shards ?? []).filter((shard) => shard.status === 'enabled');
  const allAssociated = (app: TestApp, count: number) => {
    const status = shards(app).status();
    return status.shardsHeld.length === count && status.shardsDisabled.length === 0;
  };

  beforeEach(async () => {
    fake = await startFake({ eventSubWelcomeTimeoutMs: 60_000 });
    dir = tempDir();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await fake.close();
    dir.remove();
  });

  it('creates the conduit, associates every shard, dispatches its notifications once, and re-associates a dropped shard', async () => {
    const app = await start(2);
    await waitFor('both shards associated', () => allAssociated(app, 2) && enabledShards().length === 2, WAIT_MS);
    expect(fake.conduits()).toHaveLength(1);
    const conduitId = fake.conduits()[0]!.conduitId;
    expect(shards(app).status()).toMatchObject({ conduitId, shardCount: 2, instances: 1, shardsHeld: [0, 1], lastError: null });
    // Every instance watches its shards through conduit.shard.disabled.
    await waitFor(
      'conduit.shard.disabled subscription',
      () => fake.eventSubSubscriptions().some((s) => s.type === 'conduit.shard.disabled'),
      WAIT_MS,
    );

    const subscription = await app.app
      .get(EventSubService)
      .subscribe('channel.follow', '2', { broadcaster_user_id: '42', moderator_user_id: '42' }, { transport: 'conduit' });
    expect(subscription.transport.method).toBe('conduit');
    const published: string[] = [];
    for (let i = 0; i < 6; i++) published.push(...(await fake.publishEventSub('channel.follow', '2', FOLLOW)).messageIds);
    const dispatched = () =>
      app.events.filter((e) => e.name === 'twitch.eventsub.notification').map((e) => (e.payload as EventSubNotification).messageId);
    await waitFor('six notifications dispatched', () => dispatched().length >= 6, WAIT_MS);
    expect(dispatched().sort()).toEqual(published.sort());
    // Round robin: both shards carried some.
    expect(
      new Set(
        fake
          .eventSubDeliveries()
          .filter((d) => d.subscriptionType === 'channel.follow')
          .map((d) => d.shardId),
      ).size,
    ).toBe(2);

    const dropped = enabledShards()[0]!;
    fake.dropEventSubSocket(dropped.sessionId!);
    await waitFor(
      'the dropped shard associated with a new session',
      () => enabledShards().some((shard) => shard.shardId === dropped.shardId && shard.sessionId !== dropped.sessionId),
      WAIT_MS,
    );
    const health = await app.app.get(TwitchAuthHealthIndicator).isHealthy();
    expect(health['twitch-auth'].conduit).toMatchObject({ conduitId, shardsHeld: [0, 1] });
  });

  it('opens a lost socket again by itself when no other shard is left to report it disabled', async () => {
    const app = await start(1);
    await waitFor('the shard associated', () => allAssociated(app, 1) && enabledShards().length === 1, WAIT_MS);
    const dropped = enabledShards()[0]!;
    fake.dropEventSubSocket(dropped.sessionId!);
    await waitFor(
      'the shard associated with a new session',
      () => enabledShards().some((shard) => shard.sessionId !== dropped.sessionId) && allAssociated(app, 1),
      WAIT_MS,
    );
  });

  it('follows a change of the shard count, and hands every shard back on shutdown', async () => {
    const app = await start(2);
    await waitFor('two shards associated', () => allAssociated(app, 2), WAIT_MS);
    await expect(shards(app).setShardCount(0)).rejects.toThrow(/shard count must be an integer from 1 to 20000/);
    await shards(app).setShardCount(4);
    await waitFor('four shards associated', () => allAssociated(app, 4) && enabledShards().length === 4, WAIT_MS);
    await shards(app).setShardCount(1);
    await waitFor('one shard left', () => allAssociated(app, 1), WAIT_MS);
    expect(fake.conduits()[0]!.shardCount).toBe(1);

    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect((await openStore(dir.path)).map((row) => row.owner)).toEqual([null]);
  });

  it('a second instance on the same database gets half of the shards; the first hands them back', async () => {
    const first = await start(4);
    await waitFor('first holds all four', () => allAssociated(first, 4), WAIT_MS);
    const second = await start(4);
    await waitFor('two shards each', () => allAssociated(first, 2) && allAssociated(second, 2) && enabledShards().length === 4, WAIT_MS);
    // One conduit for both: the second found the first one's stored id.
    expect(fake.conduits()).toHaveLength(1);
    const held = [...shards(first).status().shardsHeld, ...shards(second).status().shardsHeld].sort();
    expect(held).toEqual([0, 1, 2, 3]);
    // Every shard is associated with a session of the instance holding it.
    const sessions = new Set(enabledShards().map((shard) => shard.sessionId));
    expect(sessions.size).toBe(4);
  });
});

/** The shard rows of the SQLite file, read by a DataSource of its own. */
async function openStore(path: string) {
  const { DataSource } = await import('typeorm');
  const { dataSourceOptionsFromUrl, TypeOrmConduitShardStore } = await import('../../src/twitch-auth/index.js');
  const dataSource = await new DataSource(dataSourceOptionsFromUrl(`sqlite:${path}/conduit.sqlite`)).initialize();
  try {
    const conduits: { conduit_id: string }[] = await dataSource.query('SELECT conduit_id FROM twitch_eventsub_conduits');
    return await new TypeOrmConduitShardStore(dataSource).list(conduits[0]!.conduit_id);
  } finally {
    await dataSource.destroy();
  }
}
