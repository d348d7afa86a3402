import { Injectable } from '@nestjs/common';
import { ClaimStore, InMemoryClaimStore, InMemoryTokenRepository, type TwitchAuthModuleOptions } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { startFake } from '../support/secrets-guard.js';

/** A user-written repository that stores tokens but knows nothing of claims. */
@Injectable()
class TokensOnlyRepository extends InMemoryTokenRepository {}

/** A user-written repository that shares claims too. */
@Injectable()
class ClaimingRepository extends InMemoryTokenRepository implements ClaimStore {
  private readonly claims = new InMemoryClaimStore();
  claim(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    return this.claims.claim(namespace, key, expiresAt);
  }
}

describe('the claim store of a custom repository', () => {
  let fake: FakeTwitch;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    capturedLogs.length = 0;
  });

  const warnings = () => capturedLogs.filter((line) => /does not implement ClaimStore/.test(line));

  async function start(storage: TwitchAuthModuleOptions['storage']) {
    const t = await createTestApp({ fake, options: { storage } });
    try {
      return t.app.get<ClaimStore>(ClaimStore);
    } finally {
      await t.close();
    }
  }

  it('without ClaimStore: falls back to memory and warns at startup that claims are per process, and how to fix it', async () => {
    expect(await start(TokensOnlyRepository)).toBeInstanceOf(InMemoryClaimStore);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/^warn .*EventSub de-duplication and OAuth state single-use are per process.*Implement ClaimStore/);
  });

  it('with ClaimStore: the repository is the claim store, and nothing is logged', async () => {
    expect(await start(ClaimingRepository)).toBeInstanceOf(ClaimingRepository);
    expect(warnings()).toEqual([]);
  });

  it('memory storage is one process anyway: nothing is logged', async () => {
    expect(await start('memory')).toBeInstanceOf(InMemoryClaimStore);
    expect(warnings()).toEqual([]);
  });
});
