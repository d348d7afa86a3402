import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { decideAtTwitch, deliverCallback, startAuthorization } from './oauth-client.js';

const CODE_EXCHANGES = { path: '/oauth2/token', grantType: 'authorization_code' } as const;

/** Two applications on one SQLite file: what two instances behind a load balancer share (nothing but the database). */
describe.each(['express', 'fastify'] as const)('OAuth across two %s instances sharing a database', (adapter) => {
  let fake: FakeTwitch;
  let a: TestApp;
  let b: TestApp;
  const dir = tempDir();

  beforeAll(async () => {
    fake = await startFake();
    const databaseUrl = `sqlite:${dir.path}/oauth.sqlite`;
    a = await createTestApp({ fake, adapter, databaseUrl, listen: true, options: { defaultScopes: ['chat:read'] } });
    b = await createTestApp({ fake, adapter, databaseUrl, listen: true, options: { defaultScopes: ['chat:read'] } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake.close();
    dir.remove();
  });

  it('a state issued by instance A completes on instance B once; its replay fails on either instance', async () => {
    const started = await startAuthorization(a.url, 'scopes=chat:read');
    const redirect = await decideAtTwitch(started.location!);

    const first = await deliverCallback(b.url, redirect, started.cookie);
    expect(first.status).toBe(200);
    expect((await a.tokens.getTokenInfo(fake.browserUser.userId))?.scopes).toEqual(['chat:read']);
    expect(b.events.filter((e) => e.name === 'twitch.oauth.authorized')).toHaveLength(1);

    for (const instance of [b, a]) {
      const replay = await deliverCallback(instance.url, redirect, started.cookie);
      expect(replay.status).toBe(403);
      expect(instance.events.filter((e) => e.name === 'twitch.oauth.failed').map((e) => e.payload)).toEqual([
        expect.objectContaining({ reason: 'state_replayed' }),
      ]);
    }
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(1);
  });

  it('the same callback delivered to both instances at once is exchanged exactly once', async () => {
    fake.clearRequests();
    const started = await startAuthorization(b.url, 'scopes=chat:read');
    const redirect = await decideAtTwitch(started.location!);
    const answers = await Promise.all([
      deliverCallback(a.url, redirect, started.cookie),
      deliverCallback(b.url, redirect, started.cookie),
      deliverCallback(a.url, redirect, started.cookie),
      deliverCallback(b.url, redirect, started.cookie),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 403, 403, 403]);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(1);
  });
});
