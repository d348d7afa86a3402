import { randomBytes } from 'node:crypto';
import {
  PlaintextTokenError,
  TokenDecryptionError,
  TwitchAuthConfigError,
  type TwitchAuthModuleOptions,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { legacyV1, rawQuery, rawSecrets } from '../support/raw-tokens.js';
import { caught, guardSecret, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

/**
 * What someone with write access to the database (but not the key) can do
 * with ciphertexts: move them between rows and columns, or plant plain
 * values. None of it may get a token served.
 */
describe('encrypted tokens are bound to their row and column (SQLite file)', () => {
  let fake: FakeTwitch;
  const dir = tempDir();
  const key = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('hex');
  guardSecret(key);
  guardSecret(newKey);
  let databases = 0;
  let databaseUrl: string;

  beforeAll(async () => {
    fake = await startFake();
  });
  beforeEach(() => {
    databaseUrl = `sqlite:${dir.path}/tokens-${++databases}.sqlite`;
  });
  afterAll(async () => {
    await fake.close();
    dir.remove();
  });

  /** Runs `work` on a fresh app (empty cache) over the test's database. */
  async function withApp<T>(options: Partial<TwitchAuthModuleOptions>, work: (t: TestApp) => Promise<T>): Promise<T> {
    const t = await createTestApp({ fake, databaseUrl, options });
    try {
      return await work(t);
    } finally {
      await t.close();
    }
  }

  /** Stores a fresh FakeTwitch token for each user id, encrypted with `encryptionKey`. */
  async function seed(encryptionKey: string | undefined, ...userIds: string[]) {
    const issued = userIds.map((userId) => fake.issueToken({ userId, scopes: ['chat:read'] }));
    await withApp({ encryptionKey }, async (t) => {
      for (const token of issued) await t.tokens.addUser(token.accessToken, token.refreshToken);
    });
    return issued;
  }

  async function rawRow(userId: string): Promise<Record<string, unknown>> {
    return (await rawQuery(databaseUrl, 'SELECT * FROM twitch_tokens WHERE user_id = ?', [userId]))[0]!;
  }

  it("a ciphertext copied from A's row into B's row is refused for B: nothing served, nothing overwritten", async () => {
    await seed(key, '1001', '1002');
    const fromA = await rawSecrets(databaseUrl, '1001');
    await rawQuery(databaseUrl, 'UPDATE twitch_tokens SET access_token = ?, refresh_token = ? WHERE user_id = ?', [
      fromA.access_token,
      fromA.refresh_token,
      '1002',
    ]);
    const planted = await rawRow('1002');
    const requestsBefore = fake.requests.length;
    await withApp({ encryptionKey: key }, async (t) => {
      const error = await caught(t.tokens.getUserToken('1002'));
      expect(error).toBeInstanceOf(TokenDecryptionError);
      expect(error.message).toMatch(/could not be decrypted.*left untouched.*copied from another row/);
      expect(await caught(t.tokens.refresh('1002'))).toBeInstanceOf(TokenDecryptionError);
      expect(await caught(t.tokens.validate('1002'))).toBeInstanceOf(TokenDecryptionError);
      // A's own row still reads.
      expect((await t.tokens.getUserToken('1001')).userId).toBe('1001');
    });
    // Neither token went to Twitch on B's behalf, and B's row was not written.
    expect(fake.requests.slice(requestsBefore)).toEqual([]);
    expect(await rawRow('1002')).toEqual(planted);
  });

  it('an access-token ciphertext copied into the refresh-token column is refused', async () => {
    await seed(key, '2001');
    const own = await rawSecrets(databaseUrl, '2001');
    await rawQuery(databaseUrl, 'UPDATE twitch_tokens SET refresh_token = ? WHERE user_id = ?', [own.access_token, '2001']);
    const planted = await rawRow('2001');
    const requestsBefore = fake.requests.length;
    await withApp({ encryptionKey: key }, async (t) => {
      expect(await caught(t.tokens.getUserToken('2001'))).toBeInstanceOf(TokenDecryptionError);
      expect(await caught(t.tokens.refresh('2001'))).toBeInstanceOf(TokenDecryptionError);
    });
    expect(fake.requests.slice(requestsBefore)).toEqual([]);
    expect(await rawRow('2001')).toEqual(planted);
  });

  it('a plain value planted in an encrypted store is refused; served only under acceptPlaintextTokens, then encrypted by the next write', async () => {
    await seed(key, '3001');
    const plantedToken = fake.issueToken({ userId: '3001', scopes: ['chat:read'] });
    await rawQuery(databaseUrl, 'UPDATE twitch_tokens SET access_token = ?, refresh_token = ? WHERE user_id = ?', [
      plantedToken.accessToken,
      plantedToken.refreshToken,
      '3001',
    ]);
    const planted = await rawRow('3001');
    await withApp({ encryptionKey: key }, async (t) => {
      const error = await caught(t.tokens.getUserToken('3001'));
      expect(error).toBeInstanceOf(PlaintextTokenError);
      expect(error.message).toMatch(/not encrypted although encryptionKey is set.*rotate-key.*acceptPlaintextTokens/);
      expect(await caught(t.tokens.validate('3001'))).toBeInstanceOf(PlaintextTokenError);
    });
    expect(await rawRow('3001')).toEqual(planted);

    // The migration switch: served (with a warning at startup), and encrypted by the row's next write.
    const warningsBefore = capturedLogs.filter((line) => /acceptPlaintextTokens is set/.test(line)).length;
    await withApp({ encryptionKey: key, acceptPlaintextTokens: true }, async (t) => {
      expect((await t.tokens.getUserToken('3001')).accessToken).toBe(plantedToken.accessToken);
      await t.tokens.validate('3001');
    });
    expect(capturedLogs.filter((line) => /acceptPlaintextTokens is set/.test(line)).length).toBe(warningsBefore + 1);
    const after = await rawSecrets(databaseUrl, '3001');
    expect(after.access_token).toMatch(/^enc:v2:/);
    expect(after.refresh_token).toMatch(/^enc:v2:/);
    await withApp({ encryptionKey: key }, async (t) => {
      expect((await t.tokens.getUserToken('3001')).accessToken).toBe(plantedToken.accessToken);
    });
  });

  it('a store written before the key was set is refused once the key is set, until it is migrated', async () => {
    const [issued] = await seed(undefined, '3501');
    expect((await rawSecrets(databaseUrl, '3501')).access_token).toBe(issued!.accessToken);
    await withApp({ encryptionKey: key }, async (t) => {
      expect(await caught(t.tokens.getUserToken('3501'))).toBeInstanceOf(PlaintextTokenError);
    });
  });

  it('v1 rows (no associated data) still read, and become v2 on their next write', async () => {
    const [issued] = await seed(key, '4001');
    await rawQuery(databaseUrl, 'UPDATE twitch_tokens SET access_token = ?, refresh_token = ? WHERE user_id = ?', [
      legacyV1(key, issued!.accessToken),
      legacyV1(key, issued!.refreshToken),
      '4001',
    ]);
    await withApp({ encryptionKey: key }, async (t) => {
      expect((await t.tokens.getUserToken('4001')).accessToken).toBe(issued!.accessToken);
      // Validation writes only lastValidatedAt; the secrets move to v2 with it.
      await t.tokens.validate('4001');
    });
    const after = await rawSecrets(databaseUrl, '4001');
    expect(after.access_token).toMatch(/^enc:v2:/);
    expect(after.refresh_token).toMatch(/^enc:v2:/);
    await withApp({ encryptionKey: key }, async (t) => {
      const token = await t.tokens.getUserToken('4001');
      expect([token.accessToken, token.refreshToken]).toEqual([issued!.accessToken, issued!.refreshToken]);
    });
  });

  it('previousEncryptionKeys: rows under the old key read; writes use the new key only', async () => {
    const [old] = await seed(key, '5001');
    const rotated = { encryptionKey: newKey, previousEncryptionKeys: [key] };
    // Without the old key the row does not open.
    await withApp({ encryptionKey: newKey }, async (t) => {
      expect(await caught(t.tokens.getUserToken('5001'))).toBeInstanceOf(TokenDecryptionError);
    });
    const fresh = fake.issueToken({ userId: '5002', scopes: ['chat:read'] });
    const refreshed = await withApp(rotated, async (t) => {
      expect((await t.tokens.getUserToken('5001')).accessToken).toBe(old!.accessToken);
      await t.tokens.addUser(fresh.accessToken, fresh.refreshToken);
      return t.tokens.refresh('5001');
    });
    // Both rows were written under the new key: they read without the old one, and no longer with the old one alone.
    await withApp({ encryptionKey: newKey }, async (t) => {
      expect((await t.tokens.getUserToken('5001')).accessToken).toBe(refreshed.accessToken);
      expect((await t.tokens.getUserToken('5002')).accessToken).toBe(fresh.accessToken);
    });
    await withApp({ encryptionKey: key }, async (t) => {
      expect(await caught(t.tokens.getUserToken('5002'))).toBeInstanceOf(TokenDecryptionError);
    });
  });

  it.each([
    [{ encryptionKey: newKey, previousEncryptionKeys: ['too-short'] }, /previousEncryptionKeys\[0\] must be 32 random bytes/],
    [{ previousEncryptionKeys: [key] }, /previousEncryptionKeys is set but encryptionKey is not/],
    [{ encryptionKey: newKey, previousEncryptionKeys: key as never }, /previousEncryptionKeys must be an array/],
  ])('a bad previousEncryptionKeys fails at boot with a clear TwitchAuthConfigError (%#)', async (options, message) => {
    const error = await caught(createTestApp({ fake, options }));
    expect(error).toBeInstanceOf(TwitchAuthConfigError);
    expect(error.message).toMatch(message);
  });
});
