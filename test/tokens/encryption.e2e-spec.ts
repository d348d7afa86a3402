import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TokenDecryptionError, EncryptionKeyMissingError, dataSourceOptionsFromUrl } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { caught, guardSecret, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

describe('encryption at rest (SQLite file)', () => {
  let fake: FakeTwitch;
  const dir = tempDir();
  const databaseUrl = `sqlite:${dir.path}/tokens.sqlite`;
  const key = randomBytes(32).toString('base64');
  const otherKey = randomBytes(32).toString('hex');
  guardSecret(key);
  guardSecret(otherKey);

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake.close();
    dir.remove();
  });

  async function rawRow(userId: string): Promise<Record<string, unknown>> {
    const source = await new DataSource(dataSourceOptionsFromUrl(databaseUrl)).initialize();
    try {
      const rows = (await source.query('SELECT * FROM twitch_tokens WHERE user_id = ?', [userId])) as Record<string, unknown>[];
      return rows[0]!;
    } finally {
      await source.destroy();
    }
  }

  it('stores neither the access token nor the refresh token in the clear, and reads them back', async () => {
    const issued = fake.issueToken({ userId: '4242', scopes: ['chat:read'] });
    const t = await createTestApp({ fake, databaseUrl, options: { encryptionKey: key } });
    try {
      await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    } finally {
      await t.close();
    }
    const row = await rawRow('4242');
    const dump = JSON.stringify(row);
    expect(dump).not.toContain(issued.accessToken);
    expect(dump).not.toContain(issued.refreshToken);
    expect(String(row.access_token)).toMatch(/^enc:v2:/);

    const again = await createTestApp({ fake, databaseUrl, options: { encryptionKey: key } });
    try {
      expect((await again.tokens.getUserToken('4242')).accessToken).toBe(issued.accessToken);
    } finally {
      await again.close();
    }
  });

  it('a wrong key gives a clear error and leaves the row intact, even through refresh and validate', async () => {
    const before = await rawRow('4242');
    const t = await createTestApp({ fake, databaseUrl, options: { encryptionKey: otherKey } });
    try {
      const error = await caught(t.tokens.getUserToken('4242'));
      expect(error).toBeInstanceOf(TokenDecryptionError);
      expect(error.message).toMatch(/could not be decrypted.*left untouched/);
      expect(await caught(t.tokens.refresh('4242'))).toBeInstanceOf(TokenDecryptionError);
      expect(await caught(t.tokens.validate('4242'))).toBeInstanceOf(TokenDecryptionError);
      expect(JSON.stringify(await t.tokens.listTokens())).toContain('4242');
    } finally {
      await t.close();
    }
    const after = await rawRow('4242');
    expect(after).toEqual(before);
  });

  it('no key for an encrypted store says so', async () => {
    const t = await createTestApp({ fake, databaseUrl });
    try {
      expect(await caught(t.tokens.getUserToken('4242'))).toBeInstanceOf(EncryptionKeyMissingError);
    } finally {
      await t.close();
    }
  });
});
