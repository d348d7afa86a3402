import { Logger } from '@nestjs/common';
import type { TokenStorageOption } from '../twitch-auth.options.js';

/** Once per process: several apps or modules in one process share one warning, not one each. */
let warned = false;

/** The warning logged when tokens go to a database unencrypted. */
export const PLAIN_TEXT_TOKENS_WARNING =
  "storage: 'typeorm' without encryptionKey: access and refresh tokens are stored in plain text in the database. " +
  'Set the encryptionKey option (32 random bytes, base64 or hex: openssl rand -base64 32; the demo app and the CLI read ' +
  'TWITCH_AUTH_ENCRYPTION_KEY) to encrypt them at rest.';

/**
 * Warns, once per process, that TypeORM storage runs without `encryptionKey`:
 * anyone who can read the database (a backup, a shared file) can use the
 * tokens. Memory storage never leaves the process, so it is not warned about.
 */
export function warnIfTokensInPlainText(storage: TokenStorageOption, encryptionKey: string | null): void {
  if (storage !== 'typeorm' || encryptionKey !== null || warned) return;
  warned = true;
  new Logger('TwitchAuth').warn(PLAIN_TEXT_TOKENS_WARNING);
}
