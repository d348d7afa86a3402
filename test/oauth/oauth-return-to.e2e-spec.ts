import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { decideAtTwitch, deliverCallback, pageText, startAuthorization } from './oauth-client.js';

/** The whole browser flow with `returnTo` (raw, encoded here for the query): start, consent at FakeTwitch, callback. */
async function flow(appUrl: string, returnTo: string) {
  const started = await startAuthorization(appUrl, `scopes=chat:read&return_to=${encodeURIComponent(returnTo)}`);
  if (started.status !== 302) return { started, answer: null };
  const redirect = await decideAtTwitch(started.location!);
  return { started, answer: await deliverCallback(appUrl, redirect, started.cookie) };
}

describe.each(['express', 'fastify'] as const)('OAuth return_to on %s', (adapter) => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake, adapter, listen: true, options: { defaultScopes: ['chat:read'] } });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(async () => {
    fake.clearRequests();
    for (const info of await t.tokens.listTokens()) await t.tokens.removeUser(info.userId);
  });

  it('refuses a return_to longer than the state can carry at /oauth (400, before Twitch), and carries one of exactly that length through', async () => {
    const tooLong = await startAuthorization(t.url, `return_to=${encodeURIComponent('/' + 'a'.repeat(1_499))}`);
    expect(tooLong.status).toBe(400);
    const text = pageText(tooLong.html);
    expect(text).toMatch(/return_to is too long: at most \d+ characters/);
    expect(tooLong.setCookies).toEqual([]);
    expect(fake.requests).toHaveLength(0);

    // The limit the page names is what the state really carries: that length completes the flow, one more is refused.
    const max = Number(/at most (\d+) characters/.exec(text)![1]);
    const longest = '/' + 'b'.repeat(max - 1);
    const { answer } = await flow(t.url, longest);
    expect(answer).toMatchObject({ status: 302, location: longest });
    expect(await t.tokens.getTokenInfo(fake.browserUser.userId)).not.toBeNull();
    expect((await startAuthorization(t.url, `return_to=${encodeURIComponent(longest + 'b')}`)).status).toBe(400);
  });

  it('counts the percent-encoded length: a path of multi-byte characters within the limit in characters but not encoded is refused', async () => {
    const probe = await startAuthorization(t.url, `return_to=${encodeURIComponent('/' + 'a'.repeat(1_499))}`);
    const max = Number(/at most (\d+) characters/.exec(pageText(probe.html))![1]);
    // 频 is 9 characters once encoded (%E9%A2%91).
    const answer = await startAuthorization(t.url, `return_to=${encodeURIComponent('/' + '频'.repeat(Math.ceil(max / 9)))}`);
    expect(answer.status).toBe(400);
    expect(pageText(answer.html)).toMatch(/return_to is too long/);
  });

  it('sends the browser to a non-Latin-1 return_to percent-encoded, after storing the token (not a 500)', async () => {
    const { started, answer } = await flow(t.url, '/bienvenüe/频道?q=é&x="<y>"#top');
    expect(started.status).toBe(302);
    expect(answer).toMatchObject({ status: 302, location: '/bienven%C3%BCe/%E9%A2%91%E9%81%93?q=%C3%A9&x=%22%3Cy%3E%22#top' });
    expect(await t.tokens.getTokenInfo(fake.browserUser.userId)).toMatchObject({ scopes: ['chat:read'] });
  });

  it('keeps escapes already in return_to as they are, and still refuses paths that leave the site', async () => {
    const { answer } = await flow(t.url, '/a%20b/%2F/c?d=%zz');
    // %20 and %2F stay (one path segment, not "//"), a stray % becomes %25.
    expect(answer).toMatchObject({ status: 302, location: '/a%20b/%2F/c?d=%25zz' });
    for (const leaving of ['//evil.example/频道', '/\\evil.example', '/\u3000/x\n/evil', 'https://evil.example/ü']) {
      const refused = await startAuthorization(t.url, `return_to=${encodeURIComponent(leaving)}`);
      expect([leaving, refused.status]).toEqual([leaving, 400]);
      expect(pageText(refused.html)).toMatch(/return_to must be a path on this site/);
    }
  });
});
