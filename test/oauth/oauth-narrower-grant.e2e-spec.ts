import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { decideAtTwitch, deliverCallback, pageText, startAuthorization } from './oauth-client.js';

/** The whole browser flow for `scopes`: start, consent at FakeTwitch, callback. */
async function authorize(appUrl: string, scopes: string) {
  const started = await startAuthorization(appUrl, `scopes=${scopes}`);
  expect(started.status).toBe(302);
  return deliverCallback(appUrl, await decideAtTwitch(started.location!), started.cookie);
}

describe.each(['express', 'fastify'] as const)('OAuth callback and a grant narrower than the stored one on %s', (adapter) => {
  let fake: FakeTwitch;
  let kept: TestApp;
  let replacing: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    const scopeSets = { read: ['chat:read'], bot: ['chat:read', 'chat:edit'] };
    kept = await createTestApp({ fake, adapter, listen: true, options: { oauth: { scopeSets } } });
    replacing = await createTestApp({ fake, adapter, listen: true, options: { oauth: { scopeSets, replaceNarrowerGrant: true } } });
  });
  afterAll(async () => {
    await kept.close();
    await replacing.close();
    await fake.close();
  });
  beforeEach(async () => {
    for (const t of [kept, replacing]) for (const info of await t.tokens.listTokens()) await t.tokens.removeUser(info.userId);
  });

  it('keeps the stored chat:read chat:edit token when a chat:read grant comes back, says so, and revokes the new token', async () => {
    const userId = fake.browserUser.userId;
    expect((await authorize(kept.url, 'chat:read+chat:edit')).status).toBe(200);
    const before = await kept.tokens.getAccessToken(userId);
    fake.clearRequests();

    const answer = await authorize(kept.url, 'chat:read');
    expect(answer.status).toBe(200);
    const text = pageText(answer.html);
    expect(text).toContain('Existing authorization kept');
    expect(text).toMatch(/lacked: chat:edit Scopes still authorized: chat:read chat:edit/);
    expect(await kept.tokens.getTokenInfo(userId)).toMatchObject({ scopes: ['chat:read', 'chat:edit'] });
    expect(await kept.tokens.getAccessToken(userId)).toBe(before);
    expect(fake.countRequests({ path: '/oauth2/revoke' })).toBe(1);
    for (const secret of fake.issuedSecrets()) expect(answer.html).not.toContain(secret);
  });

  it('stores a grant at least as wide as the stored one, as before', async () => {
    const userId = fake.browserUser.userId;
    await authorize(kept.url, 'chat:read');
    const answer = await authorize(kept.url, 'chat:read+chat:edit');
    expect(pageText(answer.html)).toContain('Twitch account connected');
    expect(await kept.tokens.getTokenInfo(userId)).toMatchObject({ scopes: ['chat:read', 'chat:edit'] });
  });

  it('replaces the stored token with the narrower grant when oauth.replaceNarrowerGrant is set', async () => {
    const userId = fake.browserUser.userId;
    await authorize(replacing.url, 'chat:read+chat:edit');
    const answer = await authorize(replacing.url, 'chat:read');
    expect(pageText(answer.html)).toContain('Twitch account connected');
    expect(await replacing.tokens.getTokenInfo(userId)).toMatchObject({ scopes: ['chat:read'] });
  });
});
