import { MAX_CONCURRENT_CODE_EXCHANGES, MAX_QUEUED_CODE_EXCHANGES } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { deliverCallback, pageText, startAuthorization, type AppAnswer } from './oauth-client.js';

/** Resolves once `condition` holds, polling (a safety net, not a measurement). */
async function eventually(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(['express', 'fastify'] as const)('OAuth callback bounds on %s', (adapter) => {
  describe('outbound code exchanges', () => {
    let fake: FakeTwitch;
    let t: TestApp;
    /** Code exchanges Twitch is answering right now, and the most seen at once. */
    let inFlight = 0;
    let maxInFlight = 0;
    let arrivals = 0;
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));

    beforeAll(async () => {
      fake = await startFake();
      // Twitch's token endpoint, holding every exchange until the test opens the gate, then refusing the made-up code.
      fake.addRoute({
        method: 'POST',
        path: '/oauth2/token',
        endpoint: 'token',
        handle: async () => {
          arrivals++;
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await gate;
          inFlight--;
          return { status: 400, body: { status: 400, message: 'Invalid authorization code' } };
        },
      });
      t = await createTestApp({
        fake,
        adapter,
        listen: true,
        options: { twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, timeoutMs: 60_000 } },
      });
    });
    afterAll(async () => {
      openGate();
      await t.close();
      await fake.close();
    });

    it('runs a few at once, queues a few more, answers the rest 503 with Retry-After; a refused callback can be reloaded', async () => {
      const refused = 3;
      const total = MAX_CONCURRENT_CODE_EXCHANGES + MAX_QUEUED_CODE_EXCHANGES + refused;
      // Each attacker-style callback carries a real state (anyone can start an authorization) and a made-up code.
      const callbacks: { url: string; cookie: string | null }[] = [];
      for (let i = 0; i < total; i++) {
        const started = await startAuthorization(t.url);
        callbacks.push({ url: `/oauth/callback?code=bogus-${i}&state=${started.state}`, cookie: started.cookie });
      }
      const answers: AppAnswer[] = [];
      const retryAfter: (string | null)[] = [];
      const pending = callbacks.map(async ({ url, cookie }) => {
        const response = await fetch(`${t.url}${url}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
        if (response.status === 503) retryAfter.push(response.headers.get('retry-after'));
        const answer = { status: response.status, html: await response.text() } as AppAnswer;
        answers.push(answer);
        return answer;
      });
      // Without a bound, every callback would reach Twitch; with one, the surplus is answered while the rest wait.
      await eventually(() => answers.length >= refused || arrivals > MAX_CONCURRENT_CODE_EXCHANGES);
      expect(arrivals).toBe(MAX_CONCURRENT_CODE_EXCHANGES);
      expect(answers.map((a) => a.status)).toEqual(Array(refused).fill(503));
      expect(retryAfter).toEqual(Array(refused).fill('5'));
      expect(pageText(answers[0]!.html)).toMatch(/Too many authorizations at once.*reload this page/);

      openGate();
      const all = await Promise.all(pending);
      expect(all.filter((a) => a.status === 503)).toHaveLength(refused);
      expect(all.filter((a) => a.status === 400)).toHaveLength(total - refused);
      expect(arrivals).toBe(total - refused);
      expect(maxInFlight).toBe(MAX_CONCURRENT_CODE_EXCHANGES);

      // A refused callback spent neither its state nor its code: reloading it reaches Twitch this time.
      const refusedIndex = (await Promise.all(pending)).findIndex((a) => a.status === 503);
      const again = await deliverCallback(t.url, callbacks[refusedIndex]!.url, callbacks[refusedIndex]!.cookie);
      expect(again.status).toBe(400);
      expect(pageText(again.html)).toMatch(/Twitch rejected the authorization code/);
      expect(arrivals).toBe(total - refused + 1);
    });
  });
});
