import { Injectable } from '@nestjs/common';
import { InMemoryTokenRepository, type StoredToken, type StoredTokenChanges, type UpdateCondition } from '../../src/twitch-auth/index.js';
import { TokenRefresher } from '../../src/twitch-auth/tokens/token-refresher.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, secondsAgo, type TestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { startFake } from '../support/secrets-guard.js';

/** A repository whose writes of new access tokens fail while `failing` is set, as a database outage would. */
@Injectable()
class OutageRepository extends InMemoryTokenRepository {
  static failing = false;
  /** Token writes that reached the database, by user. */
  static readonly tokenWrites = new Map<string, number>();
  override async update(userId: string, changes: StoredTokenChanges, condition?: UpdateCondition): Promise<StoredToken | null> {
    if (changes.accessToken !== undefined) {
      if (OutageRepository.failing) throw new Error('database unavailable');
      OutageRepository.tokenWrites.set(userId, (OutageRepository.tokenWrites.get(userId) ?? 0) + 1);
    }
    return super.update(userId, changes, condition);
  }
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/**
 * A refreshed token is written only on the grant it refreshed: a newer grant
 * stored meanwhile (the user authorized again) always wins, the loser is
 * revoked at Twitch, and the log says what really happened.
 */
describe('fenced writes of refreshed tokens', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let refresher: TokenRefresher;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake, options: { storage: OutageRepository } });
    refresher = t.app.get(TokenRefresher);
  });
  afterAll(async () => {
    OutageRepository.failing = false;
    await t.close();
    await fake.close();
  });
  afterEach(() => {
    OutageRepository.failing = false;
    refresher.timings.retryBaseMs = 250;
    fake.clearFailures();
  });

  it('a re-authorization during a refresh backoff wins over the refreshed old grant', async () => {
    const old = fake.issueToken({ userId: '7100', scopes: ['chat:read'] });
    await t.tokens.addToken('7100', old.accessToken, old.refreshToken, ['chat:read'], { expiresAt: secondsAgo(1) });
    refresher.timings.retryBaseMs = 1_500;
    fake.failNext('token', 1, 500, { grantType: 'refresh_token' });
    const revokesBefore = fake.countRequests({ path: '/oauth2/revoke' });

    const refreshing = t.tokens.refresh('7100');
    await until('the first refresh attempt to fail', () => fake.countRequests({ grantType: 'refresh_token', status: 500 }) >= 1);
    const fresh = fake.issueToken({ userId: '7100', scopes: ['chat:read', 'chat:edit'] });
    await t.tokens.addUser(fresh.accessToken, fresh.refreshToken);

    const answered = await refreshing;
    expect(answered.accessToken).toBe(fresh.accessToken);
    const stored = await t.tokens.getUserToken('7100', ['chat:edit']);
    expect(stored.accessToken).toBe(fresh.accessToken);
    expect(stored.refreshToken).toBe(fresh.refreshToken);
    // The refresh of the old grant did happen at Twitch; its token was discarded and revoked.
    expect(fake.countRequests({ grantType: 'refresh_token', status: 200 })).toBeGreaterThanOrEqual(1);
    await until('the discarded token to be revoked', () => fake.countRequests({ path: '/oauth2/revoke' }) === revokesBefore + 1);
    expect(fake.isValid(fresh.accessToken)).toBe(true);
    expect(capturedLogs.some((line) => line.includes('user 7100') && line.includes('replaced by a newer grant'))).toBe(true);
  });

  it('a pending write after an outage never overwrites a grant stored meanwhile, and never claims it was stored', async () => {
    const old = fake.issueToken({ userId: '7200', scopes: ['chat:read'] });
    await t.tokens.addToken('7200', old.accessToken, old.refreshToken, ['chat:read'], { expiresAt: secondsAgo(1) });

    OutageRepository.failing = true;
    const refreshed = await t.tokens.getUserToken('7200');
    expect(refreshed.accessToken).not.toBe(old.accessToken);
    expect(refresher.pendingRow('7200')).toBeDefined();

    // The user authorizes again while the database rejects token updates (inserts still work).
    const fresh = fake.issueToken({ userId: '7200', scopes: ['chat:read', 'chat:edit'] });
    await t.tokens.addUser(fresh.accessToken, fresh.refreshToken);
    OutageRepository.failing = false;

    await until('the pending write to be settled', () => refresher.pendingRow('7200') === undefined);
    expect((await t.repository.get('7200'))!.accessToken).toBe(fresh.accessToken);
    expect((await t.tokens.getUserToken('7200')).accessToken).toBe(fresh.accessToken);
    expect(capturedLogs.some((line) => line.includes('refreshed token of user 7200 is now stored'))).toBe(false);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });

  it('a pending write lands on its grant even after another instance took the lapsed lease, leaving that lease alone', async () => {
    const old = fake.issueToken({ userId: '7300', scopes: ['chat:read'] });
    await t.tokens.addToken('7300', old.accessToken, old.refreshToken, ['chat:read'], { expiresAt: secondsAgo(1) });

    OutageRepository.failing = true;
    const refreshed = await t.tokens.getUserToken('7300');
    // The outage outlasts the lease: another instance takes it over (and waits its grace before refreshing).
    const now = Date.now();
    expect(await t.repository.acquireLease('7300', 'other-instance', now + 60_000, now + refresher.timings.leaseTtlMs + 1)).not.toBeNull();
    OutageRepository.failing = false;

    await until('the pending write to land', () => refresher.pendingRow('7300') === undefined);
    const stored = (await t.repository.get('7300'))!;
    expect(stored.accessToken).toBe(refreshed.accessToken);
    expect(stored.refreshToken).toBe(refreshed.refreshToken);
    // The taker finds the new token when its grace ends; its lease is not pulled from under it.
    expect(stored.leaseOwner).toBe('other-instance');
    expect(capturedLogs.some((line) => line.includes('refreshed token of user 7300 is now stored'))).toBe(true);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
    await t.repository.releaseLease('7300', 'other-instance');
  });

  it('an intents change during a refresh does not fence the refreshed token out', async () => {
    const old = fake.issueToken({ userId: '7400', scopes: ['chat:read'] });
    await t.tokens.addToken('7400', old.accessToken, old.refreshToken, ['chat:read'], { expiresAt: secondsAgo(1) });
    refresher.timings.retryBaseMs = 1_500;
    fake.failNext('token', 1, 500, { grantType: 'refresh_token' });
    const before = fake.countRequests({ grantType: 'refresh_token', status: 500 });

    const refreshing = t.tokens.refresh('7400');
    await until('the first refresh attempt to fail', () => fake.countRequests({ grantType: 'refresh_token', status: 500 }) > before);
    await t.tokens.addIntents('7400', ['chat']);
    const refreshed = await refreshing;

    expect(refreshed.accessToken).not.toBe(old.accessToken);
    const stored = (await t.repository.get('7400'))!;
    expect(stored.accessToken).toBe(refreshed.accessToken);
    expect(stored.intents).toEqual(['chat']);
    expect(fake.isValid(refreshed.accessToken)).toBe(true);
  });
});
