import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TwitchAuthDashboardModule } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { startFake } from '../support/secrets-guard.js';
import { ADMIN_HEADER, TestAdminGuard, seedTokens, type SeededUsers } from './dashboard-fixture.js';

/** Screenshots of a failed test are kept here (git-ignored). */
const ARTIFACTS = join(process.cwd(), 'test-results');
const PATH = '/twitch-auth';

const describeBrowser = describeWithChromium('the dashboard browser test');

/** The operator's page in a real browser: what it shows, what moves, and what its buttons do at Twitch. */
describeBrowser('the dashboard in Chromium', () => {
  let browser: Browser | undefined;
  let fake: FakeTwitch;
  let t: TestApp;
  let users: SeededUsers & { expired: string };
  let admin: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    fake = await startFake();
    t = await createTestApp({ fake, listen: true, imports: [TwitchAuthDashboardModule.forRoot({ path: PATH, guard: TestAdminGuard })] });
    const seeded = await seedTokens(fake, t.tokens, t.repository);
    const expiredUser = fake.addUser({ login: 'expired_user' });
    const issued = fake.issueToken({ userId: expiredUser.userId, scopes: ['chat:read'] });
    await t.tokens.addToken(expiredUser.userId, issued.accessToken, issued.refreshToken, ['chat:read'], {
      login: 'expired_user',
      expiresAt: new Date(Date.now() - 60_000),
    });
    users = { ...seeded, expired: expiredUser.userId };
    // The test guard's header stands in for the app's real authentication.
    admin = await browser.newContext({ extraHTTPHeaders: ADMIN_HEADER });
  }, 120_000);
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await t?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    page = await admin.newPage();
    fake.clearRequests();
  });
  afterEach(async () => {
    await page.close();
  });

  async function screenshot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
  }

  /** Runs `body`, saving a screenshot when it fails. */
  async function withScreenshot(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      await screenshot(name);
      throw error;
    }
  }

  async function expectNoSecret(): Promise<void> {
    const html = await page.content();
    for (const secret of fake.issuedSecrets()) expect(html).not.toContain(secret);
  }

  const badge = (userId: string) => page.locator(`tr[data-user-id="${userId}"] .badge`).innerText();

  it('shows each token with the badge of its state, and no secret', async () => {
    await withScreenshot('badges', async () => {
      await page.goto(`${t.url}${PATH}`);
      expect(await badge(users.valid)).toBe('valid');
      expect(await badge(users.expiring)).toBe('expiring soon');
      expect(await badge(users.expired)).toBe('expired');
      expect(await badge(users.failing)).toBe('failing');
      expect(await badge(users.reauth)).toBe('reauth required');
      await expectNoSecret();
    });
  }, 60_000);

  it('moves the expiry countdown without reloading', async () => {
    await withScreenshot('countdown', async () => {
      await page.goto(`${t.url}${PATH}`);
      const selector = `tr[data-user-id="${users.expiring}"] time[data-countdown]`;
      const first = await page.locator(selector).innerText();
      expect(first).toMatch(/^in 29m \d+s$/);
      // Polls until the script changed the text (bounded wait); no duration is asserted.
      let next = first;
      for (const deadline = Date.now() + 30_000; next === first && Date.now() < deadline;) {
        await sleep(200);
        next = await page.locator(selector).innerText();
      }
      expect(next).not.toBe(first);
      expect(await page.locator(selector).innerText()).toMatch(/^in 2\dm \d+s$/);
    });
  }, 60_000);

  it('"Refresh now" refreshes that token exactly once at Twitch', async () => {
    await withScreenshot('refresh', async () => {
      await page.goto(`${t.url}${PATH}`);
      await page.getByRole('button', { name: 'Refresh now (valid_user)' }).click();
      await page.waitForURL((url) => url.searchParams.get('done') === 'refreshed');
      expect(await page.getByRole('status').innerText()).toBe(`Refreshed the token of user ${users.valid}.`);
      expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
      expect(await badge(users.valid)).toBe('valid');
      await expectNoSecret();
    });
  }, 60_000);

  it('"Revoke" revokes at Twitch and lists the user as revoked', async () => {
    await withScreenshot('revoke', async () => {
      await page.goto(`${t.url}${PATH}`);
      await page.getByRole('button', { name: 'Revoke (expired_user)' }).click();
      await page.waitForURL((url) => url.searchParams.get('done') === 'revoked');
      expect(fake.countRequests({ path: '/oauth2/revoke' })).toBe(1);
      expect(await page.locator(`li[data-user-id="${users.expired}"] .badge`).innerText()).toBe('revoked');
      expect(await page.locator(`tr[data-user-id="${users.expired}"]`).count()).toBe(0);
    });
  }, 60_000);

  it('refuses a form posted without its CSRF token, and the page to a browser the guard rejects', async () => {
    await withScreenshot('refusals', async () => {
      await page.goto(`${t.url}${PATH}`);
      const form = page.locator(`tr[data-user-id="${users.valid}"] form[action$="/refresh"]`);
      await form.locator('input[name="_csrf"]').evaluate((input) => input.remove());
      await form.getByRole('button').click();
      await page.waitForLoadState();
      expect(await page.locator('body').innerText()).toContain('reload the dashboard');
      expect(fake.countRequests({ path: '/oauth2/token' })).toBe(0);

      const stranger = await browser!.newPage();
      try {
        const answer = await stranger.goto(`${t.url}${PATH}`);
        expect(answer?.status()).toBe(403);
      } finally {
        await stranger.close();
      }
    });
  }, 60_000);
});
