import { randomBytes } from 'node:crypto';

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Random string over `alphabet`, without modulo bias (bytes past the last full cycle are skipped). */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A token shaped like Twitch's: 30 lowercase letters and digits, URL-safe. */
export function randomToken(): string {
  return randomString(LOWER_ALNUM, 30);
}

/** A device code: long, URL-safe. */
export function randomDeviceCode(): string {
  return randomString(LOWER_ALNUM, 40);
}

/** A user code to type on the activation page: 8 uppercase letters. */
export function randomUserCode(): string {
  return randomString(UPPER_LETTERS, 8);
}
