import { Injectable } from '@nestjs/common';
import { InMemoryTokenRepository, type StoredToken, type StoredTokenChanges, type UpdateCondition } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, secondsAgo, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';

/** A repository whose writes of new access tokens fail while `failing` is set, as a database outage would. */
@Injectable()
class FlakyRepository extends InMemoryTokenRepository {
  static failing = false;
  static failedWrites = 0;
  override async update(userId: string, changes: StoredTokenChanges, condition?: UpdateCondition): Promise<StoredToken | null> {
    if (FlakyRepository.failing && changes.accessToken !== undefined) {
      FlakyRepository.failedWrites++;
      throw new Error('database unavailable');
    }
    return super.update(userId, changes, condition);
  }
}

describe('a refreshed token whose write fails is never lost', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake, options: { storage: FlakyRepository } });
  });
  afterAll(async () => {
    FlakyRepository.failing = false;
    await t.close();
    await fake.close();
  });

  it('keeps the new token in memory, never reuses the spent refresh token, and stores it once the database is back', async () => {
    const issued = fake.issueToken({ userId: '5500', scopes: ['chat:read'] });
    await t.tokens.addToken('5500', issued.accessToken, issued.refreshToken, ['chat:read'], { expiresAt: secondsAgo(1) });

    FlakyRepository.failing = true;
    const refreshed = await t.tokens.getUserToken('5500');
    expect(refreshed.accessToken).not.toBe(issued.accessToken);
    expect(FlakyRepository.failedWrites).toBeGreaterThanOrEqual(1);
    expect((await t.repository.get('5500'))!.accessToken).toBe(issued.accessToken);

    // While the write is pending, callers get the new token and nothing refreshes with the spent refresh token.
    expect((await t.tokens.getUserToken('5500')).accessToken).toBe(refreshed.accessToken);
    expect((await t.tokens.refresh('5500')).accessToken).not.toBe(issued.accessToken);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
    // The lease stays held by this instance so no other instance refreshes meanwhile.
    expect((await t.repository.get('5500'))!.leaseOwner).not.toBeNull();

    FlakyRepository.failing = false;
    const deadline = Date.now() + 15_000;
    let stored = await t.repository.get('5500');
    while (stored!.accessToken === issued.accessToken && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      stored = await t.repository.get('5500');
    }
    const current = await t.tokens.getUserToken('5500');
    expect(stored!.accessToken).toBe(current.accessToken);
    expect(fake.isValid(stored!.accessToken)).toBe(true);
    expect(stored!.leaseOwner).toBeNull();
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });
});
