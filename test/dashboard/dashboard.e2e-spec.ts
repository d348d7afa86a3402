import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DashboardGuardMissingError, DashboardWithoutTwitchAuthError, TwitchAuthDashboardModule } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { captureLogger, capturedLogs } from '../support/log-capture.js';
import { startFake } from '../support/secrets-guard.js';
import { getPage, postForm } from './dashboard-client.js';
import { ADMIN_HEADER, HOSTILE_LOGIN, TestAdminGuard, seedTokens, type SeededUsers } from './dashboard-fixture.js';

const PATH = '/ops/twitch';
const refreshes = (fake: FakeTwitch) => fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' });

describe.each(['express', 'fastify'] as const)('TwitchAuthDashboardModule on %s', (adapter) => {
  let fake: FakeTwitch;
  let t: TestApp;
  let users: SeededUsers;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({
      fake,
      adapter,
      listen: true,
      imports: [TwitchAuthDashboardModule.forRoot({ path: PATH, guard: TestAdminGuard })],
    });
    users = await seedTokens(fake, t.tokens, t.repository);
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.clearRequests());

  /** The page as the admin sees it, with the CSRF cookie and token a form post needs. */
  async function adminPage(query = '') {
    const page = await getPage(`${t.url}${PATH}${query}`, ADMIN_HEADER);
    expect(page.status).toBe(200);
    return page;
  }

  it("refuses the page and every action to a request the app's guard rejects", async () => {
    expect((await getPage(`${t.url}${PATH}`)).status).toBe(403);
    const { cookie, csrfToken } = await adminPage();
    const answer = await postForm(`${t.url}${PATH}/tokens/${users.valid}/refresh`, { _csrf: csrfToken! }, { cookie: cookie! });
    expect(answer.status).toBe(403);
    expect(refreshes(fake)).toBe(0);
  });

  it('shows every token with its badge, countdown and actions; never a secret; hostile text escaped', async () => {
    const page = await adminPage();
    const badgeOf = (userId: string) => new RegExp(`<tr data-user-id="${userId}">[\\s\\S]*?data-state="([a-z_]+)"`).exec(page.html)?.[1];
    expect(badgeOf(users.valid)).toBe('valid');
    expect(badgeOf(users.expiring)).toBe('expiring');
    expect(badgeOf(users.failing)).toBe('failing');
    expect(badgeOf(users.reauth)).toBe('reauth_required');
    expect(page.html).toMatch(/<time datetime="[^"]+Z" data-countdown[^>]*>in 29m \d+s<\/time>/);
    expect(page.html).toContain('Validate now');
    expect(page.html).toContain('Refresh now');

    expect(page.html).not.toContain(HOSTILE_LOGIN);
    expect(page.html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    for (const secret of fake.issuedSecrets()) expect(page.html).not.toContain(secret);

    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const csp = page.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(page.html).toContain(`<script nonce="${nonce}">`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.cookie).toMatch(/^twitch_dashboard_csrf=/);
  });

  it('filters tokens needing re-authorization, and those expiring within the hour', async () => {
    const reauth = await adminPage('?filter=reauth');
    const listed = (html: string) => [...html.matchAll(/<tr data-user-id="([^"]+)"/g)].map((m) => m[1]).sort();
    expect(listed(reauth.html)).toEqual([users.reauth]);
    expect(listed((await adminPage('?filter=expiring')).html)).toEqual([users.expiring]);
    expect(listed((await adminPage()).html)).toHaveLength(5);
  });

  it('refuses a POST without the CSRF token, with a wrong one, or without the cookie it is bound to', async () => {
    const { cookie, csrfToken } = await adminPage();
    const url = `${t.url}${PATH}/tokens/${users.valid}/refresh`;
    const other = await getPage(`${t.url}${PATH}`, ADMIN_HEADER);
    const attempts = [
      await postForm(url, {}, { ...ADMIN_HEADER, cookie: cookie! }),
      await postForm(url, { _csrf: 'x'.repeat(43) }, { ...ADMIN_HEADER, cookie: cookie! }),
      await postForm(url, { _csrf: other.csrfToken! }, { ...ADMIN_HEADER, cookie: cookie! }),
      await postForm(url, { _csrf: csrfToken! }, ADMIN_HEADER),
      await postForm(url, { _csrf: csrfToken! }, { ...ADMIN_HEADER, cookie: cookie!, 'sec-fetch-site': 'cross-site' }),
    ];
    expect(attempts.map((a) => a.status)).toEqual([403, 403, 403, 403, 403]);
    expect(attempts[0]!.body).toContain('reload the dashboard');
    expect(refreshes(fake)).toBe(0);
  });

  it('refresh now refreshes exactly once; validate now asks Twitch once; both land in the activity chart', async () => {
    const { cookie, csrfToken } = await adminPage();
    const headers = { ...ADMIN_HEADER, cookie: cookie! };
    const refreshed = await postForm(`${t.url}${PATH}/tokens/${users.valid}/refresh`, { _csrf: csrfToken! }, headers);
    expect(refreshed.status).toBe(303);
    expect(refreshed.location).toBe(`${PATH}?done=refreshed&user=${users.valid}`);
    expect(refreshes(fake)).toBe(1);

    const validated = await postForm(`${t.url}${PATH}/tokens/${users.expiring}/validate`, { _csrf: csrfToken! }, headers);
    expect(validated.location).toBe(`${PATH}?done=validated&user=${users.expiring}`);
    expect(fake.countRequests({ path: '/oauth2/validate' })).toBe(1);

    const after = await getPage(`${t.url}${refreshed.location}`, headers);
    expect(after.html).toContain(`Refreshed the token of user ${users.valid}.`);
    expect(after.html).toMatch(/ 1 refreshes /);
    expect(after.html).toMatch(/ 1 validations /);
    for (const secret of fake.issuedSecrets()) expect(after.html).not.toContain(secret);
  });

  it('revoke revokes at Twitch and deletes; the user then shows as revoked', async () => {
    const { cookie, csrfToken } = await adminPage();
    const answer = await postForm(
      `${t.url}${PATH}/tokens/${users.hostile}/revoke`,
      { _csrf: csrfToken! },
      { ...ADMIN_HEADER, cookie: cookie! },
    );
    expect(answer.location).toBe(`${PATH}?done=revoked&user=${users.hostile}`);
    expect(fake.countRequests({ path: '/oauth2/revoke' })).toBe(1);
    expect(await t.tokens.getTokenInfo(users.hostile)).toBeNull();
    const page = await adminPage();
    expect(page.html).toMatch(new RegExp(`<li data-user-id="${users.hostile}">\\s*<span class="badge bad" data-state="revoked">`));
    expect(page.html).not.toContain(HOSTILE_LOGIN);
  });

  it('answers an action on an unknown user with a message, not an error page', async () => {
    const { cookie, csrfToken } = await adminPage();
    const answer = await postForm(`${t.url}${PATH}/tokens/nobody/refresh`, { _csrf: csrfToken! }, { ...ADMIN_HEADER, cookie: cookie! });
    expect(answer.location).toBe(`${PATH}?done=not_found&user=nobody`);
    expect((await getPage(`${t.url}${answer.location}`, ADMIN_HEADER)).html).toContain('No token is stored for user nobody.');
  });
});

describe('TwitchAuthDashboardModule configuration', () => {
  it('refuses to mount without a guard, naming the fix', () => {
    const attempt = () => TwitchAuthDashboardModule.forRoot({ path: '/ops' });
    expect(attempt).toThrow(DashboardGuardMissingError);
    expect(attempt).toThrow(/Pass guard: .*allowUnauthenticated: true for local development only/);
  });

  it('serves without a guard only with allowUnauthenticated, and warns at startup', async () => {
    const fake = await startFake();
    const t = await createTestApp({ fake, listen: true, imports: [TwitchAuthDashboardModule.forRoot({ allowUnauthenticated: true })] });
    try {
      expect(capturedLogs.some((line) => /dashboard at \/twitch-auth is served without authentication/.test(line))).toBe(true);
      expect((await getPage(`${t.url}/twitch-auth`)).status).toBe(200);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it('stops the app when TwitchAuthModule is not imported', async () => {
    @Module({ imports: [TwitchAuthDashboardModule.forRoot({ allowUnauthenticated: true })] })
    class LonelyModule {}
    const app = await NestFactory.create(LonelyModule, { logger: captureLogger, abortOnError: false });
    await expect(app.init()).rejects.toThrow(DashboardWithoutTwitchAuthError);
    await app.close();
  });
});
