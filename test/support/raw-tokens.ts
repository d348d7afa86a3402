import { createCipheriv, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../../src/twitch-auth/index.js';

/** Runs `query` on the database at `databaseUrl` behind the library's back (what an attacker with database access could do). */
export async function rawQuery<T = Record<string, unknown>>(databaseUrl: string, query: string, params: unknown[] = []): Promise<T[]> {
  const source = await new DataSource(dataSourceOptionsFromUrl(databaseUrl)).initialize();
  try {
    return (await source.query(query, params)) as T[];
  } finally {
    await source.destroy();
  }
}

/** The stored `access_token` and `refresh_token` of one user, as they are on disk. */
export async function rawSecrets(databaseUrl: string, userId: string): Promise<{ access_token: string; refresh_token: string | null }> {
  const rows = await rawQuery<{ access_token: string; refresh_token: string | null }>(
    databaseUrl,
    'SELECT access_token, refresh_token FROM twitch_tokens WHERE user_id = ?',
    [userId],
  );
  if (!rows[0]) throw new Error(`no row for user ${userId}`);
  return rows[0];
}

/**
 * `plain` in the earlier `enc:v1:` format (AES-256-GCM without associated
 * data), as versions before the v2 format wrote it; `key` is base64.
 */
export function legacyV1(key: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return 'enc:v1:' + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
}
