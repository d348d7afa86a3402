import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for secrets at rest. Ciphertext is `enc:v1:<base64(iv|tag|data)>`
 * so encrypted and plain values can be told apart (a key can be added to an
 * existing store: plain rows still read, and are encrypted on their next write).
 */
export class TokenCipher {
  private readonly key: Buffer | null;

  /** `key`: 32 bytes as base64 or hex; null disables encryption. */
  constructor(key: string | null) {
    this.key = key === null ? null : parseKey(key);
  }

  get enabled(): boolean {
    return this.key !== null;
  }

  /** Inspection says whether a key is set, never its bytes. */
  [inspect.custom](): string {
    return `TokenCipher { enabled: ${this.enabled} }`;
  }

  /** Encrypts when a key is set; returns the value unchanged otherwise. */
  encrypt(plain: string): string {
    if (!this.key) return plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
  }

  /**
   * Decrypts `enc:v1:` values; plain values pass through. Returns
   * `'no-key'` or `'wrong-key'` instead of throwing so the caller can name the user.
   */
  decrypt(stored: string): string | 'no-key' | 'wrong-key' {
    if (!stored.startsWith(PREFIX)) return stored;
    if (!this.key) return 'no-key';
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) return 'wrong-key';
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return 'wrong-key';
    }
  }

  /** True when `stored` is ciphertext of this format. */
  static isEncrypted(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }
}

function parseKey(key: string): Buffer {
  const trimmed = key.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes.length === 32) return bytes;
  }
  throw new TwitchAuthConfigError(
    "encryptionKey must be 32 random bytes written as base64 (44 characters) or hex (64 characters); generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"",
  );
}
