import type { Browser } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { freePort } from '../support/net.js';

const describeBrowser = describeWithChromium('the real-browser OAuth test');

describeBrowser('OAuth in a real browser (headless Chromium)', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let browser: Browser | undefined;
  let appOrigin = '';
  let dir: ReturnType<typeof tempDir> | undefined;
  let databaseUrl = '';

  beforeAll(async () => {
    dir = tempDir();
    databaseUrl = `sqlite:${dir.path}/browser.sqlite`;
    fake = await startFake();
    const port = await freePort();
    t = await createTestApp({
      fake,
      databaseUrl,
      options: { redirectUri: `http://127.0.0.1:${port}/oauth/callback`, defaultScopes: ['chat:read'] },
    });
    await t.app.listen(port, '127.0.0.1');
    appOrigin = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await fake?.close();
    dir?.remove();
  });

  it('a person opens /oauth, clicks Authorize at Twitch, lands on the success page, and the token row is in SQLite', async () => {
    const page = await browser!.newPage();
    await page.goto(`${appOrigin}/oauth?scopes=chat:read`);
    expect(page.url().startsWith(`${fake.url}/oauth2/authorize?`)).toBe(true);
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL((url) => url.pathname === '/oauth/callback');

    const text = await page.locator('body').innerText();
    expect(text).toContain('Twitch account connected');
    expect(text).toContain(`${fake.browserUser.login} (user id ${fake.browserUser.userId}) authorized this application`);
    expect(text).toContain('chat:read');
    const cookies = await page.context().cookies();
    expect(cookies.filter((cookie) => cookie.name.startsWith('twitch_oauth_'))).toEqual([]);

    const db = new DataSource({ ...dataSourceOptionsFromUrl(databaseUrl), migrationsRun: false });
    await db.initialize();
    try {
      const rows = (await db.query('SELECT user_id, login, scopes, status FROM twitch_tokens')) as Record<string, unknown>[];
      expect(rows).toEqual([{ user_id: fake.browserUser.userId, login: fake.browserUser.login, scopes: '["chat:read"]', status: 'valid' }]);
    } finally {
      await db.destroy();
    }
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'authorization_code' })).toBe(1);
  });
});
