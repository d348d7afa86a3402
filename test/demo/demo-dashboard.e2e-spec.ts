import { demoDashboard } from '../../src/demo/dashboard-access.js';
import { StatusController } from '../../src/demo/status.controller.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';

const DASHBOARD_TOKEN = 'demo-dashboard-token-5f0c2a9e';
guardSecret(DASHBOARD_TOKEN);

/** The demo's home page is the dashboard: open only when the demo listens on loopback. */
describe("the demo's dashboard access", () => {
  let fake: FakeTwitch;

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('does not start on a reachable HOST without DASHBOARD_TOKEN, and says which variable to set', () => {
    expect(() => demoDashboard({ HOST: '0.0.0.0' })).toThrow(/HOST is 0\.0\.0\.0.*set DASHBOARD_TOKEN/);
  });

  it('opens on loopback without a token, with the startup warning', async () => {
    const t = await createTestApp({ fake, listen: true, imports: [demoDashboard({ HOST: '127.0.0.1' })] });
    try {
      expect(capturedLogs.some((line) => /dashboard at \/ is served without authentication/.test(line))).toBe(true);
      expect((await fetch(`${t.url}/`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  describe('on a reachable HOST with DASHBOARD_TOKEN', () => {
    let t: TestApp;
    const previous = { token: process.env.DASHBOARD_TOKEN, host: process.env.HOST };

    beforeAll(async () => {
      process.env.DASHBOARD_TOKEN = DASHBOARD_TOKEN;
      process.env.HOST = '0.0.0.0';
      t = await createTestApp({
        fake,
        listen: true,
        imports: [demoDashboard({ HOST: '0.0.0.0', DASHBOARD_TOKEN })],
        controllers: [StatusController],
      });
    });
    afterAll(async () => {
      await t.close();
      restore('DASHBOARD_TOKEN', previous.token);
      restore('HOST', previous.host);
    });

    it('keeps the JSON token list behind the same token', async () => {
      expect((await fetch(`${t.url}/tokens`)).status).toBe(401);
      const listed = await fetch(`${t.url}/tokens`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } });
      expect(listed.status).toBe(200);
      expect(await listed.json()).toEqual([]);
    });

    it('asks for the token (401 with a Basic challenge) and refuses a wrong one', async () => {
      const bare = await fetch(`${t.url}/`);
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect((await fetch(`${t.url}/`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    });

    it('serves the page with the token as a bearer token or a Basic password', async () => {
      expect((await fetch(`${t.url}/`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } })).status).toBe(200);
      const basic = Buffer.from(`admin:${DASHBOARD_TOKEN}`).toString('base64');
      const page = await fetch(`${t.url}/`, { headers: { authorization: `Basic ${basic}` } });
      expect(page.status).toBe(200);
      expect(await page.text()).not.toContain(DASHBOARD_TOKEN);
    });
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
