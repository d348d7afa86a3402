import { randomBytes } from 'node:crypto';
import {
  EncryptionKeyRequiredError,
  InMemoryTokenRepository,
  TokenKeyRotator,
  type StoredToken,
  type StoredTokenChanges,
  type UpdateCondition,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { caught, guardSecret, startFake } from '../support/secrets-guard.js';

/** An in-memory store where another instance writes a row just before the rotation's conditional write of it, `times` times. */
class RacingRepository extends InMemoryTokenRepository {
  races = 0;
  constructor(
    private readonly racedUser: string,
    private readonly times: number,
  ) {
    super();
  }

  override async update(userId: string, changes: StoredTokenChanges, condition?: UpdateCondition): Promise<StoredToken | null> {
    if (userId === this.racedUser && condition?.version !== undefined && this.races < this.times) {
      this.races++;
      await super.update(userId, { login: `renamed${this.races}` });
    }
    return super.update(userId, changes, condition);
  }
}

describe('TokenKeyRotator (through the module, in memory)', () => {
  let fake: FakeTwitch;
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  guardSecret(oldKey);
  guardSecret(newKey);

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('a row written by someone else between read and rewrite is read again and rotated, keeping their change', async () => {
    const repository = new RacingRepository('8001', 2);
    const issued = fake.issueToken({ userId: '8001', scopes: ['chat:read'] });
    const before = await createTestApp({ fake, options: { storage: repository, encryptionKey: oldKey } });
    await before.tokens.addUser(issued.accessToken, issued.refreshToken);
    await before.close();

    const t = await createTestApp({ fake, options: { storage: repository, encryptionKey: newKey, previousEncryptionKeys: [oldKey] } });
    try {
      const result = await t.app.get(TokenKeyRotator).rotate();
      expect(result).toEqual({ processed: 1, total: 1, rewritten: 1, skipped: 0, failed: [], interrupted: false });
      expect(repository.races).toBe(2);
    } finally {
      await t.close();
    }
    const after = await createTestApp({ fake, options: { storage: repository, encryptionKey: newKey } });
    try {
      const token = await after.tokens.getUserToken('8001');
      expect([token.accessToken, token.refreshToken, token.login]).toEqual([issued.accessToken, issued.refreshToken, 'renamed2']);
    } finally {
      await after.close();
    }
  });

  it('rows no configured key opens are reported and left untouched; the others are rotated', async () => {
    const repository = new InMemoryTokenRepository();
    const lost = randomBytes(32).toString('base64');
    guardSecret(lost);
    const a = fake.issueToken({ userId: '8101', scopes: [] });
    const b = fake.issueToken({ userId: '8102', scopes: [] });
    const first = await createTestApp({ fake, options: { storage: repository, encryptionKey: lost } });
    await first.tokens.addUser(a.accessToken, a.refreshToken);
    await first.close();
    const second = await createTestApp({ fake, options: { storage: repository, encryptionKey: oldKey } });
    await second.tokens.addUser(b.accessToken, b.refreshToken);
    await second.close();
    const untouched = await repository.get('8101');

    const t = await createTestApp({ fake, options: { storage: repository, encryptionKey: newKey, previousEncryptionKeys: [oldKey] } });
    try {
      const result = await t.app.get(TokenKeyRotator).rotate();
      expect(result).toEqual({ processed: 2, total: 2, rewritten: 1, skipped: 0, failed: ['8101'], interrupted: false });
      expect(await repository.get('8101')).toEqual(untouched);
    } finally {
      await t.close();
    }
  });

  it('without encryptionKey it refuses to run', async () => {
    const t = await createTestApp({ fake });
    try {
      expect(await caught(t.app.get(TokenKeyRotator).rotate())).toBeInstanceOf(EncryptionKeyRequiredError);
    } finally {
      await t.close();
    }
  });
});
