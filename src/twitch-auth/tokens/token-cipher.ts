import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';

/** Format of every value written: AES-256-GCM bound (associated data) to its user and column. */
const PREFIX_V2 = 'enc:v2:';
/** Earlier format, without associated data: still read, never written. */
const PREFIX_V1 = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The column a secret is stored in; part of what a v2 ciphertext is bound to. */
export type TokenColumn = 'access_token' | 'refresh_token';

/** Where a secret lives. A v2 ciphertext decrypts only at the place it was written for. */
export interface SecretPlace {
  userId: string;
  column: TokenColumn;
}

/**
 * What reading a stored secret gave: the plain value, and whether it is
 * already in the form a write would give it (v2 under the current key); a
 * value that is not (v1, a previous key, plain) is rewritten by the row's
 * next write or by `twitch-auth rotate-key`. Or why it cannot be read.
 */
export type RevealedSecret =
  | { plain: string; current: boolean }
  | {
      failure:
        | 'no-key' /* encrypted, no key configured */
        | 'undecryptable' /* no key opens it here */
        | 'plaintext'; /* plain in an encrypted store */
    };

/** Options of `TokenCipher` besides the current key. */
export interface TokenCipherOptions {
  /** Keys values may still be encrypted with (rotation); never used to write. */
  previousKeys?: string[];
  /** Serve plain values even though a key is set (temporary, while a plain store is being encrypted). */
  acceptPlaintext?: boolean;
}

/**
 * AES-256-GCM for secrets at rest. A value is `enc:v2:<base64(iv|tag|data)>`,
 * its associated data naming the user and the column: a ciphertext copied
 * to another row or column fails to decrypt instead of being served there.
 * Once a key is set, a plain value is refused (it could have been planted)
 * unless `acceptPlaintext` is set while a plain store is migrated.
 */
export class TokenCipher {
  private readonly key: Buffer | null;
  private readonly previousKeys: Buffer[];
  /** True while plain values are served although a key is set. */
  readonly acceptPlaintext: boolean;

  /** `key`: 32 bytes as base64 or hex; null disables encryption. */
  constructor(key: string | null, options: TokenCipherOptions = {}) {
    this.key = key === null ? null : parseKey(key, 'encryptionKey');
    const previous = options.previousKeys ?? [];
    if (this.key === null && previous.length > 0) {
      throw new TwitchAuthConfigError(
        'previousEncryptionKeys is set but encryptionKey is not: set encryptionKey to the key tokens are written with, and keep the older ones in previousEncryptionKeys.',
      );
    }
    this.previousKeys = previous.map((k, i) => parseKey(k, `previousEncryptionKeys[${i}]`));
    this.acceptPlaintext = this.key !== null && (options.acceptPlaintext ?? false);
  }

  /** True when a key is set. */
  get enabled(): boolean {
    return this.key !== null;
  }

  /** Inspection says whether a key is set, never its bytes. */
  [inspect.custom](): string {
    return `TokenCipher { enabled: ${this.enabled}, previousKeys: ${this.previousKeys.length} }`;
  }

  /** Encrypts with the current key for `place` when a key is set; returns the value unchanged otherwise. */
  encrypt(plain: string, place: SecretPlace): string {
    if (!this.key) return plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(associatedData(place));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX_V2 + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
  }

  /**
   * Reads a stored value found at `place`. Failures are returned, not thrown,
   * so the caller can name the user. `acceptPlaintext` overrides the option
   * for one read (rotation encrypts plain rows).
   */
  decrypt(stored: string, place: SecretPlace, acceptPlaintext = this.acceptPlaintext): RevealedSecret {
    const v2 = stored.startsWith(PREFIX_V2);
    if (!v2 && !stored.startsWith(PREFIX_V1)) {
      if (!this.key) return { plain: stored, current: true };
      return acceptPlaintext ? { plain: stored, current: false } : { failure: 'plaintext' };
    }
    if (!this.key) return { failure: 'no-key' };
    const raw = Buffer.from(stored.slice((v2 ? PREFIX_V2 : PREFIX_V1).length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) return { failure: 'undecryptable' };
    const keys = [this.key, ...this.previousKeys];
    for (const [index, key] of keys.entries()) {
      const plain = open(raw, key, v2 ? associatedData(place) : null);
      if (plain !== null) return { plain, current: v2 && index === 0 };
    }
    return { failure: 'undecryptable' };
  }

  /** True when `stored` is ciphertext of a format this cipher reads. */
  static isEncrypted(stored: string): boolean {
    return stored.startsWith(PREFIX_V2) || stored.startsWith(PREFIX_V1);
  }
}

/** Binds a ciphertext to its place; the column never contains `:`, so the user id after it is unambiguous. */
function associatedData(place: SecretPlace): Buffer {
  return Buffer.from(`nestjs-twitch-auth:v2:${place.column}:${place.userId}`, 'utf8');
}

function open(raw: Buffer, key: Buffer, aad: Buffer | null): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function parseKey(key: unknown, option: string): Buffer {
  const trimmed = typeof key === 'string' ? key.trim() : '';
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes.length === 32) return bytes;
  }
  throw new TwitchAuthConfigError(
    `${option} must be 32 random bytes written as base64 (44 characters) or hex (64 characters); generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`,
  );
}
