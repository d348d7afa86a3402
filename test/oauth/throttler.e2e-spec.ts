import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { ensureBuilt, ROOT } from '../support/build.js';
import { capturedLogs } from '../support/log-capture.js';
import { startFake } from '../support/secrets-guard.js';
import { decideAtTwitch, deliverCallback, pageText, startAuthorization } from './oauth-client.js';

const LIMIT = 3;

/** Starts test/fixtures/throttled-app.mjs (the docs' recipe) and resolves with its URL. */
function startThrottledApp(fake: FakeTwitch, adapter: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'test/fixtures/throttled-app.mjs')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      FAKE_ID_URL: fake.idBaseUrl,
      FAKE_HELIX_URL: fake.helixBaseUrl,
      CLIENT_ID: fake.clientId,
      CLIENT_SECRET: fake.clientSecret!,
      ADAPTER: adapter,
      LIMIT: String(LIMIT),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.once('exit', () => capturedLogs.push(`throttled app output: ${output}`));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const url = /listening (\S+)/.exec(output)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`the throttled app exited (${code}) before listening:\n${output}`)));
  });
}

describe.each(['express', 'fastify'] as const)("the OAuth routes under @nestjs/throttler's global guard on %s", (adapter) => {
  let fake: FakeTwitch;
  let app: { child: ChildProcess; url: string };

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFake();
    app = await startThrottledApp(fake, adapter);
  }, 200_000);
  afterAll(async () => {
    if (app) {
      const exited = new Promise((resolve) => app.child.once('exit', resolve));
      app.child.kill('SIGTERM');
      await exited;
    }
    await fake?.close();
  });

  it('completes an authorization under the limit, then answers 429 on /oauth and /oauth/callback past it', async () => {
    const started = await startAuthorization(app.url, 'scopes=chat:read');
    expect(started.status).toBe(302);
    const answer = await deliverCallback(app.url, await decideAtTwitch(started.location!), started.cookie);
    expect(answer.status).toBe(200);
    expect(pageText(answer.html)).toContain(`${fake.browserUser.login} (user id ${fake.browserUser.userId}) authorized this application`);

    // Each route has its own count: one request of each was spent above.
    const starts = [];
    for (let i = 0; i < LIMIT; i++) starts.push((await startAuthorization(app.url)).status);
    expect(starts).toEqual([...Array(LIMIT - 1).fill(302), 429]);
    const callbacks = [];
    for (let i = 0; i < LIMIT; i++) callbacks.push((await deliverCallback(app.url, '/oauth/callback?code=bogus&state=bogus', null)).status);
    expect(callbacks).toEqual([...Array(LIMIT - 1).fill(403), 429]);
    // The throttled callbacks never reached Twitch.
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'authorization_code' })).toBe(1);
  });
});
