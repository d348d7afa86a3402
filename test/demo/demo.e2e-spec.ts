import { statSync } from 'node:fs';
import { ensureBuilt } from '../support/build.js';
import { DemoProcess, killAllDemos } from '../support/demo-process.js';
import { tempDir } from '../support/temp.js';

/** What `npm start` does on a fresh machine: no Twitch credentials, SQLite file storage. */
describe('the demo app without Twitch credentials', () => {
  const dir = tempDir();
  let demo: DemoProcess;

  beforeAll(async () => {
    await ensureBuilt();
    demo = await DemoProcess.start('offline', { DATABASE_URL: `sqlite:${dir.path}/data/demo.sqlite` }, dir.path);
  }, 120_000);
  afterAll(async () => {
    await killAllDemos();
    dir.remove();
  });

  it('says it runs against FakeTwitch and serves its pages', async () => {
    expect(demo.output).toMatch(/TWITCH_CLIENT_ID is not set: running against FakeTwitch at http:\/\/127\.0\.0\.1:\d+/);
    const page = await fetch(`${demo.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('running against the bundled FakeTwitch');
    expect(await (await fetch(`${demo.url}/tokens`)).json()).toEqual([]);
    expect((await fetch(`${demo.url}/health`)).status).toBe(200);
  });

  it('keeps its token database private: folder 0700, the SQLite file, -wal and -shm 0600', () => {
    const file = `${dir.path}/data/demo.sqlite`;
    const modes = [`${dir.path}/data`, file, `${file}-wal`, `${file}-shm`].map((path) => statSync(path).mode & 0o777);
    expect(modes).toEqual([0o700, 0o600, 0o600, 0o600]);
  });

  it('warns once that its tokens are stored in plain text, and how to set a key', () => {
    const warnings = demo.output.match(/tokens are stored in plain text/g) ?? [];
    expect(warnings).toHaveLength(1);
    expect(demo.output).toMatch(/plain text.*encryptionKey.*TWITCH_AUTH_ENCRYPTION_KEY/);
  });

  it("serves the module's metrics at /metrics in Prometheus text, gauges included", async () => {
    const response = await fetch(`${demo.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^twitch_auth_tokens\{status="reauth_required",otel_scope_name="nestjs-twitch-auth"[^}]*\} 0$/m);
    expect(text).toMatch(/^twitch_auth_maintenance_backlog\{kind="validation",[^}]*\} 0$/m);
  });

  it('starts the OAuth flow at FakeTwitch and stops cleanly on SIGTERM', async () => {
    const start = await fetch(`${demo.url}/oauth?scopes=chat:read`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    expect(start.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?/);
    await demo.stop('SIGTERM');
    expect(demo.running).toBe(false);
  });
});
