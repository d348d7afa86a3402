import { TokenLeaseTimeoutError } from '../../src/twitch-auth/index.js';
import { TokenRefresher } from '../../src/twitch-auth/tokens/token-refresher.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, secondsAgo, type TestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { startFake } from '../support/secrets-guard.js';

const MINUTE = 60_000;

/**
 * Another instance's lease is never judged by this process's clock: a holder
 * whose clock runs minutes behind (so its deadline looks long past here) keeps
 * its lease while it renews it, and only a lease seen unchanged for the lease
 * time plus a grace period is taken over.
 */
describe('leases across instances whose clocks differ', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let refresher: TokenRefresher;
  const defaults = { leaseTtlMs: 0, takeoverGraceMs: 0, leaseWaitMs: 0 };

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake });
    refresher = t.app.get(TokenRefresher);
    Object.assign(defaults, refresher.timings);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  afterEach(() => {
    Object.assign(refresher.timings, defaults);
  });

  async function dueUser(userId: string): Promise<string> {
    const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
    await t.tokens.addToken(userId, issued.accessToken, issued.refreshToken, ['chat:read'], { expiresAt: secondsAgo(1) });
    return issued.accessToken;
  }

  const refreshRequests = () => fake.countRequests({ grantType: 'refresh_token' });

  it('waits for a live lease whose holder runs two minutes behind instead of taking it over', async () => {
    await dueUser('9100');
    // The holder wrote its deadline as its own now + 40 s; its clock is 2 minutes slow, so here that deadline passed 80 s ago.
    const now = Date.now();
    expect(await t.repository.acquireLease('9100', 'slow-clock-instance', now - 2 * MINUTE + 40_000, now - 2 * MINUTE)).not.toBeNull();
    const before = refreshRequests();

    const refreshing = t.tokens.refresh('9100');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(refreshRequests()).toBe(before);
    expect((await t.repository.get('9100'))!.leaseOwner).toBe('slow-clock-instance');

    await t.repository.releaseLease('9100', 'slow-clock-instance');
    await refreshing;
    expect(refreshRequests()).toBe(before + 1);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });

  it('never takes over a lease its holder keeps renewing, however old its deadline looks', async () => {
    await dueUser('9200');
    Object.assign(refresher.timings, { leaseTtlMs: 300, takeoverGraceMs: 200, leaseWaitMs: 2_000 });
    let renewals = 0;
    const renew = async () => {
      const now = Date.now();
      // A holder two minutes behind, renewing its 300 ms lease as it works.
      await t.repository.acquireLease('9200', 'slow-clock-instance', now - 2 * MINUTE + 300 + renewals++, now - 2 * MINUTE);
    };
    await renew();
    const timer = setInterval(() => void renew(), 100);
    const before = refreshRequests();
    try {
      await expect(t.tokens.refresh('9200')).rejects.toBeInstanceOf(TokenLeaseTimeoutError);
    } finally {
      clearInterval(timer);
    }
    expect(renewals).toBeGreaterThan(5);
    expect(refreshRequests()).toBe(before);
  });

  it('takes over a lease left unchanged for the lease time plus the grace period (its holder died)', async () => {
    const seen = await dueUser('9300');
    Object.assign(refresher.timings, { leaseTtlMs: 300, takeoverGraceMs: 200, leaseWaitMs: 5_000 });
    const now = Date.now();
    // A dead holder whose clock ran ten minutes fast: its deadline still looks far ahead here.
    expect(await t.repository.acquireLease('9300', 'fast-clock-instance', now + 10 * MINUTE, now)).not.toBeNull();
    const before = refreshRequests();

    const refreshed = await t.tokens.refresh('9300');
    expect(refreshed.accessToken).not.toBe(seen);
    expect(refreshRequests()).toBe(before + 1);
    expect((await t.repository.get('9300'))!.leaseOwner).toBeNull();
    expect(capturedLogs.some((line) => line.includes('Took over the lease of user 9300 from fast-clock-instance'))).toBe(true);
  });
});
