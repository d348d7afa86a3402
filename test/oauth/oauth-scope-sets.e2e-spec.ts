import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { decideAtTwitch, deliverCallback, pageText, startAuthorization } from './oauth-client.js';

describe.each(['express', 'fastify'] as const)('OAuth start route and oauth.scopeSets on %s', (adapter) => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({
      fake,
      adapter,
      listen: true,
      options: { defaultScopes: ['user:read:email'], oauth: { scopeSets: { bot: ['chat:read', 'chat:edit'] } } },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.clearRequests());

  const askedScopes = (location: string | null) => new URL(location!).searchParams.get('scope');

  it('starts flows for the configured sets: ?set=bot, the default set, and ?scopes= naming exactly a set (any order)', async () => {
    expect(askedScopes((await startAuthorization(t.url, 'set=bot')).location)).toBe('chat:read chat:edit');
    expect(askedScopes((await startAuthorization(t.url)).location)).toBe('user:read:email');
    expect(askedScopes((await startAuthorization(t.url, 'set=default')).location)).toBe('user:read:email');
    expect(askedScopes((await startAuthorization(t.url, 'scopes=chat:edit+chat:read')).location)).toBe('chat:read chat:edit');

    // The whole flow with a set stores what the set asked for.
    const started = await startAuthorization(t.url, 'set=bot');
    const answer = await deliverCallback(t.url, await decideAtTwitch(started.location!), started.cookie);
    expect(answer.status).toBe(200);
    expect(await t.tokens.getTokenInfo(fake.browserUser.userId)).toMatchObject({ scopes: ['chat:read', 'chat:edit'] });
  });

  it.each([
    ['scopes=chat:read', /does not ask for these scopes.*\?set=default \(user:read:email\), \?set=bot \(chat:read chat:edit\)/],
    ['scopes=chat:read+chat:edit+channel:manage:broadcast', /does not ask for these scopes/],
    ['set=admin', /"admin" is not a scope set of this application/],
    ['set=constructor', /"constructor" is not a scope set of this application/],
    ['set=bot&scopes=chat:read', /Give one set, and no scopes/],
    ['set=bot&set=default', /Give one set, and no scopes/],
  ])('refuses %s with a 400 page naming the sets, before Twitch', async (query, message) => {
    const answer = await startAuthorization(t.url, query);
    expect(answer.status).toBe(400);
    expect(pageText(answer.html)).toMatch(message);
    expect(answer.setCookies).toEqual([]);
    expect(answer.location).toBeNull();
    expect(fake.requests).toHaveLength(0);
  });
});

describe('oauth.scopeSets option checks', () => {
  it('refuses a bad set name or a bad scope at forRoot, naming the option', async () => {
    const fake = await startFake();
    try {
      await expect(createTestApp({ fake, options: { oauth: { scopeSets: { 'no spaces': ['chat:read'] } } } })).rejects.toThrow(
        /oauth\.scopeSets: "no spaces" is not a set name/,
      );
      await expect(createTestApp({ fake, options: { oauth: { scopeSets: { bot: ['Chat Read'] } } } })).rejects.toThrow(
        /oauth\.scopeSets\.bot contains "Chat Read"/,
      );
    } finally {
      await fake.close();
    }
  });
});
