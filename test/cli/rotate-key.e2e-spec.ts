import { randomBytes } from 'node:crypto';
import { TokenCipher, TokenDecryptionError, type TokenColumn } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { legacyV1, rawQuery } from '../support/raw-tokens.js';
import { caught, guardSecret, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { ensureBuilt, runCli, startCli } from './cli-runner.js';

const ROWS = 10_000;
const COLUMNS = [
  'user_id',
  'login',
  'access_token',
  'refresh_token',
  'scopes',
  'intents',
  'expires_at',
  'obtained_at',
  'last_validated_at',
  'status',
  'retry_at',
  'failure_count',
  'version',
];

interface RawSecrets {
  user_id: string;
  access_token: string;
  refresh_token: string | null;
}

/**
 * `twitch-auth rotate-key` on a SQLite file of 10,000 rows in every form a
 * store can hold (v2 under the old key, v1 under the old key, plain), stopped
 * part-way by Ctrl+C and by a crash, then run to the end.
 */
describe('twitch-auth rotate-key (node dist/cli/main.js, SQLite file)', () => {
  let fake: FakeTwitch;
  const dir = tempDir('twitch-auth-rotate-');
  const databaseUrl = `sqlite:${dir.path}/rotate.sqlite`;
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  guardSecret(oldKey);
  guardSecret(newKey);
  /** The plain tokens of every user, as first stored. */
  const original = new Map<string, { access: string; refresh: string | null }>();
  let env: Record<string, string>;

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFake();
    env = {
      TWITCH_CLIENT_ID: fake.clientId,
      TWITCH_CLIENT_SECRET: fake.clientSecret!,
      TWITCH_ID_BASE_URL: fake.idBaseUrl,
      TWITCH_HELIX_BASE_URL: fake.helixBaseUrl,
      DATABASE_URL: databaseUrl,
      TWITCH_AUTH_ENCRYPTION_KEY: newKey,
      TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS: ` ${randomBytes(32).toString('hex')}, ${oldKey} `,
    };
    // The schema, as the library creates it.
    const t = await createTestApp({ fake, databaseUrl, options: { encryptionKey: oldKey } });
    await t.close();
    await seedRows();
  }, 200_000);
  afterAll(async () => {
    await fake?.close();
    dir.remove();
  });

  /** ROWS users: a third v2 under the old key, a third v1 under the old key, a third plain (a store that predates the key). */
  async function seedRows(): Promise<void> {
    const old = new TokenCipher(oldKey);
    const rows: unknown[][] = [];
    for (let i = 0; i < ROWS; i++) {
      const userId = String(100_000 + i);
      const access = `access-${i}-${randomBytes(12).toString('hex')}`;
      const refresh = i % 7 === 0 ? null : `refresh-${i}-${randomBytes(12).toString('hex')}`;
      original.set(userId, { access, refresh });
      guardSecret(access);
      if (refresh) guardSecret(refresh);
      const seal = (plain: string, column: TokenColumn) =>
        i % 3 === 0 ? old.encrypt(plain, { userId, column }) : i % 3 === 1 ? legacyV1(oldKey, plain) : plain;
      const now = Date.now();
      rows.push([
        userId,
        `user${i}`,
        seal(access, 'access_token'),
        refresh === null ? null : seal(refresh, 'refresh_token'),
        '["chat:read"]',
        '[]',
        now + 3_600_000,
        now,
        now,
        'valid',
        0,
        0,
        1,
      ]);
    }
    const placeholders = `(${COLUMNS.map(() => '?').join(', ')})`;
    for (let start = 0; start < rows.length; start += 60) {
      const chunk = rows.slice(start, start + 60);
      await rawQuery(
        databaseUrl,
        `INSERT INTO twitch_tokens (${COLUMNS.join(', ')}) VALUES ${chunk.map(() => placeholders).join(', ')}`,
        chunk.flat(),
      );
    }
  }

  /** How many rows open with the new key alone, in the current format, to their original tokens. */
  async function rowsOnNewKey(): Promise<{ onNewKey: number; total: number }> {
    const cipher = new TokenCipher(newKey);
    const rows = await rawQuery<RawSecrets>(databaseUrl, 'SELECT user_id, access_token, refresh_token FROM twitch_tokens');
    let onNewKey = 0;
    for (const row of rows) {
      const expected = original.get(row.user_id)!;
      const open = (value: string, column: TokenColumn) => cipher.decrypt(value, { userId: row.user_id, column });
      const access = open(row.access_token, 'access_token');
      const refresh = row.refresh_token === null ? null : open(row.refresh_token, 'refresh_token');
      if (!('plain' in access) || !access.current) continue;
      if (refresh !== null && (!('plain' in refresh) || !refresh.current)) continue;
      // On the new key means holding the very tokens first stored.
      expect([row.user_id, access.plain, refresh && 'plain' in refresh ? refresh.plain : null]).toEqual([
        row.user_id,
        expected.access,
        expected.refresh,
      ]);
      onNewKey++;
    }
    return { onNewKey, total: rows.length };
  }

  it('rotate-key --help explains the environment', async () => {
    const result = await runCli(['rotate-key', '--help'], {}, dir.path);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS/);
  });

  it('interrupted by Ctrl+C, then killed, then run again: every row on the new key with its original tokens, none lost', async () => {
    // Ctrl+C after the first batch: it stops at the next batch boundary.
    const first = startCli(['rotate-key', '--batch-size', '500'], env, dir.path);
    await first.waitForOutput(/^500\/10000 rows/m, 120_000);
    first.kill('SIGINT');
    const interrupted = await first.done;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/^error: Interrupted after \d+ of 10000 rows.*run "twitch-auth rotate-key" again/im);
    const afterInterrupt = await rowsOnNewKey();
    expect(afterInterrupt.total).toBe(ROWS);
    expect(afterInterrupt.onNewKey).toBeGreaterThanOrEqual(500);
    expect(afterInterrupt.onNewKey).toBeLessThan(ROWS);

    // A crash in the middle of the next run (SIGKILL: no cleanup at all).
    const second = startCli(['rotate-key', '--batch-size', '500'], env, dir.path);
    await second.waitForOutput(/^\d+\/10000 rows: [1-9]\d* rewritten/m, 120_000);
    second.kill('SIGKILL');
    await second.done;
    const afterCrash = await rowsOnNewKey();
    expect(afterCrash.total).toBe(ROWS);
    expect(afterCrash.onNewKey).toBeGreaterThan(afterInterrupt.onNewKey);

    const last = await runCli(['rotate-key'], env, dir.path);
    expect(last.stderr).toBe('');
    expect(last.code).toBe(0);
    expect(last.stdout).toMatch(
      new RegExp(`^10000/10000 rows: ${ROWS - afterCrash.onNewKey} rewritten, ${afterCrash.onNewKey} already current$`, 'm'),
    );
    expect(last.stdout).toMatch(/^Done: every one of the 10000 rows is on the current key/m);
    expect(await rowsOnNewKey()).toEqual({ onNewKey: ROWS, total: ROWS });
  }, 600_000);

  it('then the old key can be dropped: every token reads with the new key alone, and the old key opens none', async () => {
    const { TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS: _dropped, ...newKeyOnly } = env;
    const again = await runCli(['rotate-key'], newKeyOnly, dir.path);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^10000\/10000 rows: 0 rewritten, 10000 already current$/m);

    const t = await createTestApp({ fake, databaseUrl, options: { encryptionKey: newKey } });
    try {
      for (const [userId, expected] of original) {
        const token = await t.tokens.getUserToken(userId);
        if (token.accessToken !== expected.access || token.refreshToken !== expected.refresh) {
          throw new Error(`user ${userId} does not read back its original tokens`);
        }
      }
    } finally {
      await t.close();
    }
    const old = await createTestApp({ fake, databaseUrl, options: { encryptionKey: oldKey } });
    try {
      expect(await caught(old.tokens.getUserToken('100000'))).toBeInstanceOf(TokenDecryptionError);
    } finally {
      await old.close();
    }
  }, 600_000);
});
