import { InMemoryTokenRepository, type StoredToken, type StoredTokenChanges, type UpdateCondition } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';

/** An in-memory repository whose token writes (updates that change the access token) wait at a gate while one is set. */
class GatedWrites extends InMemoryTokenRepository {
  gate: Promise<void> | null = null;
  /** Resolves when a write reached the gate. */
  reached: Promise<void> = new Promise(() => undefined);
  private signalReached: () => void = () => undefined;

  /** Closes the gate; returns the function that opens it. */
  close(): () => void {
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    this.reached = new Promise<void>((resolve) => (this.signalReached = resolve));
    return () => {
      this.gate = null;
      open();
    };
  }

  override async update(userId: string, changes: StoredTokenChanges, condition?: UpdateCondition): Promise<StoredToken | null> {
    if (this.gate && changes.accessToken !== undefined) {
      this.signalReached();
      await this.gate;
    }
    return super.update(userId, changes, condition);
  }
}

/** The name of what `promise` rejected with (an abort rejects with a DOMException, which is no `Error` of the test's realm). */
async function rejectionName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { name?: string }).name ?? String(error);
  }
  throw new Error('expected the call to reject, but it resolved');
}

/** Resolves once FakeTwitch received `count` requests matching `path` (polling; no timing is asserted). */
async function received(fake: FakeTwitch, path: string, count = 1): Promise<void> {
  while (fake.countRequests({ path }) < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('TokenService calls given an AbortSignal', () => {
  let fake: FakeTwitch;
  let repository: GatedWrites;
  let t: TestApp;
  let stored: StoredToken;

  beforeEach(async () => {
    fake = await startFake();
    repository = new GatedWrites();
    t = await createTestApp({ fake, options: { storage: repository } });
    const issued = fake.issueToken({ userId: '8100', scopes: ['chat:read'] });
    await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    stored = (await repository.get('8100'))!;
    fake.clearRequests();
  });
  afterEach(async () => {
    await t.close();
    await fake.close();
  });

  /** The row is exactly as before the call: same tokens, no backoff recorded, no lease left behind. */
  async function expectUnchanged(): Promise<void> {
    const row = (await repository.get('8100'))!;
    expect(row).toMatchObject({
      accessToken: stored.accessToken,
      refreshToken: stored.refreshToken,
      status: 'valid',
      failureCount: stored.failureCount,
      retryAt: stored.retryAt,
      leaseOwner: null,
    });
  }

  it('refresh: aborted while Twitch has not answered, it rejects at once with the abort, without a retry, leaving the row as it was', async () => {
    fake.failNext('token', 1, 'timeout', { grantType: 'refresh_token' });
    const controller = new AbortController();
    const refresh = rejectionName(t.tokens.refresh('8100', { signal: controller.signal }));
    await received(fake, '/oauth2/token');
    controller.abort();
    expect(await refresh).toBe('AbortError');
    expect(fake.countRequests({ path: '/oauth2/token' })).toBe(1);
    await expectUnchanged();
    expect(t.events.map((event) => event.name)).not.toContain('twitch.token.refresh_failed');
    // The refresh token was never used up: a later refresh works and reuses nothing.
    await t.tokens.refresh('8100');
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });

  it('refresh: aborted after Twitch answered, the new token is still written and returned', async () => {
    const open = repository.close();
    const controller = new AbortController();
    const refresh = t.tokens.refresh('8100', { signal: controller.signal });
    await repository.reached;
    controller.abort();
    open();
    const token = await refresh;
    expect(token.accessToken).not.toBe(stored.accessToken);
    expect(fake.isValid(token.accessToken)).toBe(true);
    expect((await repository.get('8100'))!.accessToken).toBe(token.accessToken);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });

  it('validate: aborted while Twitch has not answered, it rejects with the abort and records nothing', async () => {
    fake.failNext('validate', 1, 'timeout');
    const controller = new AbortController();
    const validate = rejectionName(t.tokens.validate('8100', { signal: controller.signal }));
    await received(fake, '/oauth2/validate');
    controller.abort();
    expect(await validate).toBe('AbortError');
    expect(fake.countRequests({ path: '/oauth2/validate' })).toBe(1);
    await expectUnchanged();
    expect((await repository.get('8100'))!.lastValidatedAt).toBe(stored.lastValidatedAt);
  });

  it('revoke: aborted while Twitch has not answered, it rejects with the abort and keeps the token', async () => {
    fake.failNext('revoke', 1, 'timeout');
    const controller = new AbortController();
    const revoke = rejectionName(t.tokens.revoke('8100', { signal: controller.signal }));
    await received(fake, '/oauth2/revoke');
    controller.abort();
    expect(await revoke).toBe('AbortError');
    await expectUnchanged();
    expect(fake.isValid(stored.accessToken)).toBe(true);
  });
});
