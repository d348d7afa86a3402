import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { ensureBuilt } from '../support/build.js';
import { DemoProcess, killAllDemos } from '../support/demo-process.js';
import { tempDir } from '../support/temp.js';

/** Screenshots of a failed walk-through are kept here (git-ignored). */
const ARTIFACTS = join(process.cwd(), 'test-results');

const describeBrowser = describeWithChromium('the newcomer browser test');

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The README's first five minutes, in a real browser: `npm start` without
 * Twitch credentials, open the URL the demo prints, click through the
 * FakeTwitch consent, and see the account in the table.
 */
describeBrowser('a newcomer follows the README in Chromium', () => {
  const dir = tempDir();
  let browser: Browser | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await killAllDemos();
    dir.remove();
  });

  async function walkThrough(page: Page, openAt: string, printed: string): Promise<string> {
    await page.goto(openAt);
    // Opened under another loopback name, the page moves to the printed address, where the sign-in cookie will come back.
    expect(`${new URL(page.url()).origin}/`).toBe(printed);
    await page.getByRole('link', { name: 'Authorize a Twitch account' }).click();
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL((url) => url.pathname === '/oauth/callback');
    expect(await page.locator('body').innerText()).toContain('Twitch account connected');
    await page.goto(printed);
    return page.locator('table').innerText();
  }

  async function demoRun(name: string, defaultPort: boolean): Promise<void> {
    const demo = await DemoProcess.start(name, { DATABASE_URL: `sqlite:${dir.path}/${name}.sqlite` }, dir.path, { defaultPort });
    const page = await browser!.newPage();
    try {
      // Nest colours its log lines: the URL ends where the colour code starts.
      const printed = /Demo listening on (http:\/\/[\w.:/[\]-]+)/.exec(demo.output)?.[1];
      expect(printed).toBe(`http://localhost:${demo.port}/`);
      // As printed, and as a newcomer who types the listen address instead.
      const first = await walkThrough(page, printed!, printed!);
      expect(first).toContain('chat:read chat:edit');
      expect(first).not.toContain('No tokens yet');
      const table = await walkThrough(page, `http://127.0.0.1:${demo.port}/`, printed!);
      expect(table).toContain('chat:read chat:edit');
      expect(table).toContain('valid');
      expect(table).not.toContain('No tokens yet');
    } catch (error) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, `newcomer-${name}.png`), fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await page.close();
      await demo.stop('SIGTERM');
    }
  }

  it('on the default port (PORT unset)', async () => {
    if (!(await portIsFree(3000))) throw new Error('Port 3000 is busy: the default-port walk-through needs it free.');
    await demoRun('default-port', true);
  }, 120_000);

  it('on another port', async () => {
    await demoRun('other-port', false);
  }, 120_000);
});
