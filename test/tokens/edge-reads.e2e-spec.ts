import { Injectable } from '@nestjs/common';
import {
  InMemoryTokenRepository,
  ReauthorizationRequiredError,
  TwitchAuthMaintenance,
  type StoredToken,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';

/** Counts lease requests: on SQLite each one is a `BEGIN IMMEDIATE` that serialises every instance. */
@Injectable()
class CountingRepository extends InMemoryTokenRepository {
  static leases = 0;
  override async acquireLease(userId: string, owner: string, until: number, now: number): Promise<StoredToken | null> {
    CountingRepository.leases++;
    return super.acquireLease(userId, owner, until, now);
  }
}

const HOUR = 3_600_000;

describe('edges of the read and maintenance paths', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake, options: { storage: CountingRepository } });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('serves a token without a refresh token until it expires without taking a lease, then asks for re-authorization once', async () => {
    const issued = fake.issueToken({ userId: '8100', scopes: ['chat:read'] });
    // Obtained an hour ago, expiring in 3 s: inside the refresh window, but without a refresh token it cannot be refreshed.
    const expiresAt = Date.now() + 3_000;
    await t.repository.save({
      userId: '8100',
      login: null,
      accessToken: issued.accessToken,
      refreshToken: null,
      scopes: ['chat:read'],
      obtainedAt: Date.now() - HOUR,
      lastValidatedAt: Date.now(),
      expiresAt,
      status: 'valid',
      intents: [],
    });
    fake.clearRequests();
    CountingRepository.leases = 0;

    const reads = await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        n % 2 === 0 ? t.tokens.getAccessToken('8100') : t.tokens.getUserToken('8100').then((x) => x.accessToken),
      ),
    );
    expect(new Set(reads)).toEqual(new Set([issued.accessToken]));
    for (let n = 0; n < 20; n++) await t.tokens.getUserToken('8100');
    expect(CountingRepository.leases).toBe(0);
    expect(fake.requests).toHaveLength(0);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 100));
    const afterExpiry = await Promise.allSettled(Array.from({ length: 20 }, () => t.tokens.getUserToken('8100')));
    expect(afterExpiry.every((r) => r.status === 'rejected' && r.reason instanceof ReauthorizationRequiredError)).toBe(true);
    expect(CountingRepository.leases).toBe(1);
    expect((await t.tokens.getTokenInfo('8100'))!.status).toBe('reauth_required');
    expect(fake.requests).toHaveLength(0);
  });

  it('maintenance repairs a token whose instants were written under a clock two hours fast', async () => {
    const issued = fake.issueToken({ userId: '8200', scopes: ['chat:read'], expiresInSeconds: 300 });
    const fast = Date.now() + 2 * HOUR;
    await t.repository.save({
      userId: '8200',
      login: null,
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      scopes: ['chat:read'],
      obtainedAt: fast,
      lastValidatedAt: fast,
      // As the fast instance computed it: four hours after its "now". Twitch's token dies in five minutes.
      expiresAt: fast + 4 * HOUR,
      status: 'valid',
      intents: [],
      retryAt: fast + 60_000,
      failureCount: 1,
    });

    const summary = await t.app.get(TwitchAuthMaintenance).runNow();
    expect(summary.error).toBeNull();
    const info = (await t.tokens.getTokenInfo('8200'))!;
    expect(info.lastValidatedAt!.getTime()).toBeLessThanOrEqual(Date.now());
    // Twitch's own answer now bounds the expiry: the token is refreshed before it dies, not hours after.
    expect(info.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(info.obtainedAt.getTime()).toBeLessThanOrEqual(Date.now());
    const row = (await t.repository.get('8200'))!;
    expect(row.retryAt).toBe(0);
  });
});
