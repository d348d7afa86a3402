import { jest } from '@jest/globals';
import type { OAuthAuthorizedEvent, OAuthFailedEvent } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { decideAtTwitch, deliverCallback, pageText, startAuthorization, type AppAnswer } from './oauth-client.js';

const CODE_EXCHANGES = { path: '/oauth2/token', grantType: 'authorization_code' } as const;

describe.each(['express', 'fastify'] as const)('OAuth routes on %s', (adapter) => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({
      fake,
      adapter,
      listen: true,
      options: {
        defaultScopes: ['user:read:email'],
        oauth: {
          scopeSets: { bot: ['chat:read', 'chat:edit'], read: ['chat:read'], followers: ['chat:read', 'moderator:read:followers'] },
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(async () => {
    fake.clearRequests();
    fake.clearFailures();
    t.events.length = 0;
    for (const info of await t.tokens.listTokens()) await t.tokens.removeUser(info.userId);
  });

  /** Starts an authorization and approves it at FakeTwitch; returns the redirect back and the cookie. */
  async function approved(query = 'scopes=chat:read+chat:edit') {
    const started = await startAuthorization(t.url, query);
    expect(started.status).toBe(302);
    return { started, redirect: await decideAtTwitch(started.location!), cookie: started.cookie };
  }

  function failures(): OAuthFailedEvent[] {
    return t.events.filter((e) => e.name === 'twitch.oauth.failed').map((e) => e.payload as OAuthFailedEvent);
  }

  /** The common assertions of a refused callback: status, reason, a clear page, nothing stored, no secret shown. */
  async function expectRefused(answer: AppAnswer, status: number, reason: string, text: RegExp) {
    expect(answer.status).toBe(status);
    expect(answer.contentType).toBe('text/html; charset=utf-8');
    expect(pageText(answer.html)).toMatch(text);
    expect(failures()).toEqual([expect.objectContaining({ reason })]);
    expect(t.events.some((e) => e.name === 'twitch.oauth.authorized' || e.name === 'twitch.token.added')).toBe(false);
    expect(await t.tokens.listTokens()).toEqual([]);
    for (const secret of fake.issuedSecrets()) expect(answer.html).not.toContain(secret);
  }

  it('happy path: 302 to Twitch with a signed state and a bound cookie; the callback stores the token and shows who', async () => {
    const { started, redirect, cookie } = await approved('scopes=chat:read+chat:edit');
    const authorize = new URL(started.location!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${fake.url}/oauth2/authorize`);
    expect(authorize.searchParams.get('scope')).toBe('chat:read chat:edit');
    expect(authorize.searchParams.get('client_id')).toBe(fake.clientId);
    expect(authorize.searchParams.get('state')).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(started.setCookies[0]).toMatch(
      /^twitch_oauth_[0-9a-f]{32}=[\w-]+; Max-Age=600; Path=\/oauth\/callback; HttpOnly; SameSite=Lax$/,
    );

    const answer = await deliverCallback(t.url, redirect, cookie);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/html; charset=utf-8');
    const text = pageText(answer.html);
    expect(text).toContain(`${fake.browserUser.login} (user id ${fake.browserUser.userId}) authorized this application`);
    expect(text).toMatch(/chat:read.*chat:edit/);
    for (const secret of fake.issuedSecrets()) expect(answer.html).not.toContain(secret);
    expect(answer.setCookies).toEqual([expect.stringMatching(/^twitch_oauth_[0-9a-f]{32}=; Max-Age=0; Path=\/oauth\/callback/)]);

    const info = await t.tokens.getTokenInfo(fake.browserUser.userId);
    expect(info).toMatchObject({ login: fake.browserUser.login, scopes: ['chat:read', 'chat:edit'], status: 'valid' });
    const authorized = t.events.filter((e) => e.name === 'twitch.oauth.authorized');
    expect(authorized).toHaveLength(1);
    expect((authorized[0]!.payload as OAuthAuthorizedEvent).info).toMatchObject({ userId: fake.browserUser.userId });
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(1);
    // The code travelled in the form body only.
    const exchange = fake.requests.find((r) => r.grantType === 'authorization_code')!;
    expect(exchange.query).toEqual({});
    expect(exchange.form.client_secret).toBe(fake.clientSecret);
  });

  it('accepts comma-separated scopes, falls back to defaultScopes, and passes force_verify', async () => {
    const commas = await startAuthorization(t.url, 'scopes=chat:read,moderator:read:followers&force_verify=true');
    const url = new URL(commas.location!);
    expect(url.searchParams.get('scope')).toBe('chat:read moderator:read:followers');
    expect(url.searchParams.get('force_verify')).toBe('true');
    const defaults = await startAuthorization(t.url);
    expect(new URL(defaults.location!).searchParams.get('scope')).toBe('user:read:email');
    expect(new URL(defaults.location!).searchParams.has('force_verify')).toBe(false);
  });

  it('return_to: the browser lands on the same-origin path after success', async () => {
    const { redirect, cookie } = await approved('scopes=chat:read&return_to=%2Fdashboard%3Ftab%3Dbots');
    const answer = await deliverCallback(t.url, redirect, cookie);
    expect(answer.status).toBe(302);
    expect(answer.location).toBe('/dashboard?tab=bots');
    expect(await t.tokens.getTokenInfo(fake.browserUser.userId)).not.toBeNull();
  });

  it.each([
    ['scopes=chat%20read%3Cscript%3E', /not a Twitch scope/],
    ['scopes=CHAT:READ', /not a Twitch scope/],
    ['scopes=chat:read&scopes=chat:edit', /Give the scopes once/],
    ['return_to=%2F%2Fevil.example', /return_to must be a path on this site/],
    ['return_to=https%3A%2F%2Fevil.example%2F', /return_to must be a path on this site/],
    ['return_to=%2F%5Cevil.example', /return_to must be a path on this site/],
    ['return_to=%2F%09%2Fevil.example', /return_to must be a path on this site/],
    ['return_to=dashboard', /return_to must be a path on this site/],
  ])('start with %s → 400 page, no cookie, no state', async (query, message) => {
    const answer = await startAuthorization(t.url, query);
    expect(answer.status).toBe(400);
    expect(pageText(answer.html)).toMatch(message);
    expect(answer.html).not.toContain('<script>');
    expect(answer.setCookies).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it('missing code → 400, nothing exchanged', async () => {
    const { redirect, cookie } = await approved();
    redirect.searchParams.delete('code');
    await expectRefused(await deliverCallback(t.url, redirect, cookie), 400, 'missing_code', /did not send an authorization code/);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(0);
  });

  it('error=access_denied (the user clicked Cancel) → 403 page saying the user declined', async () => {
    const started = await startAuthorization(t.url, 'scopes=chat:read');
    const redirect = await decideAtTwitch(started.location!, 'cancel');
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    await expectRefused(await deliverCallback(t.url, redirect, started.cookie), 403, 'access_denied', /You declined to authorize/);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(0);
  });

  it.each([
    ['forged', () => 'eyJ2IjoxfQ.c2lnbmF0dXJl'],
    ['missing', () => null],
    [
      'tampered (payload changed, signature kept)',
      (state: string) => {
        const [body, signature] = state.split('.');
        const payload = JSON.parse(Buffer.from(body!, 'base64url').toString()) as { exp: number };
        payload.exp += 3_600_000;
        return `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
      },
    ],
  ])('%s state → 403 invalid_state, nothing exchanged', async (_name, change) => {
    const { redirect, cookie } = await approved();
    const state = change(redirect.searchParams.get('state')!);
    if (state === null) redirect.searchParams.delete('state');
    else redirect.searchParams.set('state', state);
    await expectRefused(await deliverCallback(t.url, redirect, cookie), 403, 'invalid_state', /invalid or was tampered with/);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(0);
  });

  it('expired state → 403 state_expired, nothing exchanged', async () => {
    const { redirect, cookie } = await approved();
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 601_000);
    let answer: AppAnswer;
    try {
      answer = await deliverCallback(t.url, redirect, cookie);
    } finally {
      clock.mockRestore();
    }
    await expectRefused(answer, 403, 'state_expired', /expired/);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(0);
  });

  it('replayed state → 403 state_replayed, the code is exchanged once only', async () => {
    const { redirect, cookie } = await approved();
    expect((await deliverCallback(t.url, redirect, cookie)).status).toBe(200);
    await t.tokens.removeUser(fake.browserUser.userId);
    t.events.length = 0;
    await expectRefused(await deliverCallback(t.url, redirect, cookie), 403, 'state_replayed', /already completed/);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(1);
  });

  it('missing cookie → 403 cookie_missing; mismatched cookie → 403 cookie_mismatch; neither exchanges', async () => {
    const { redirect, cookie } = await approved();
    await expectRefused(await deliverCallback(t.url, redirect, null), 403, 'cookie_missing', /did not start this authorization/);
    t.events.length = 0;
    const other = await startAuthorization(t.url, 'scopes=chat:read');
    await expectRefused(await deliverCallback(t.url, redirect, other.cookie), 403, 'cookie_missing', /did not start/);
    t.events.length = 0;
    const wrongValue = `${cookie!.split('=')[0]}=${'A'.repeat(43)}`;
    await expectRefused(await deliverCallback(t.url, redirect, wrongValue), 403, 'cookie_mismatch', /another browser session/);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(0);
    // The refusals did not burn the state: the right browser still completes.
    expect((await deliverCallback(t.url, redirect, cookie)).status).toBe(200);
  });

  it('a code Twitch rejects → 400 code_rejected', async () => {
    const { redirect, cookie } = await approved();
    redirect.searchParams.set('code', 'notacodetwitchknows0000000000');
    await expectRefused(await deliverCallback(t.url, redirect, cookie), 400, 'code_rejected', /rejected the authorization code/);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(1);
  });

  it.each([
    ['a 500', 500],
    ['a timeout', 'timeout'],
  ] as const)('Twitch answering %s to the exchange → 502 twitch_unavailable', async (_name, failure) => {
    const { redirect, cookie } = await approved();
    fake.failNext('token', 1, failure, { grantType: 'authorization_code' });
    await expectRefused(await deliverCallback(t.url, redirect, cookie), 502, 'twitch_unavailable', /Twitch could not be reached or failed/);
  });

  it('a HEAD request to the callback neither redeems the state nor spends the code', async () => {
    const { redirect, cookie } = await approved();
    const head = await fetch(`${t.url}${redirect.pathname}${redirect.search}`, { method: 'HEAD', headers: { cookie: cookie! } });
    expect(head.status).toBe(204);
    expect(fake.countRequests(CODE_EXCHANGES)).toBe(0);
    expect((await deliverCallback(t.url, redirect, cookie)).status).toBe(200);
  });
});

describe('OAuth routes of a public client (no clientSecret)', () => {
  it('refuse to start with a clear 500 page pointing at the device flow', async () => {
    const fake = await startFake({ clientSecret: null });
    const t = await createTestApp({ fake, listen: true });
    try {
      const answer = await startAuthorization(t.url);
      expect(answer.status).toBe(500);
      expect(pageText(answer.html)).toMatch(/no client secret.*device flow/);
      expect(answer.setCookies).toEqual([]);
      expect(fake.requests).toHaveLength(0);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});
