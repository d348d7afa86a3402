import { Inject, Injectable } from '@nestjs/common';
import {
  TokenRepository,
  type NewStoredToken,
  type StoredToken,
  type StoredTokenChanges,
  type UpdateCondition,
} from '../storage/token-repository.interface.js';
import { AccessToken, type TokenInfo } from './access-token.js';
import { TokenCipher } from './token-cipher.js';
import { EncryptionKeyMissingError, TokenDecryptionError } from './token.errors.js';
import { internScopes } from './scopes.js';

/** A stored row with its secrets in plain text. Never leaves the library. */
export type PlainToken = StoredToken;

/**
 * The repository seen through the cipher: secrets are encrypted on the way in
 * and decrypted on the way out. A row that does not decrypt raises a clear
 * error and is never written over.
 */
@Injectable()
export class TokenStore {
  constructor(
    @Inject(TokenRepository) readonly repository: TokenRepository,
    private readonly cipher: TokenCipher,
  ) {}

  async get(userId: string): Promise<PlainToken | null> {
    return this.decode(await this.repository.get(userId));
  }

  async findByIntent(intent: string): Promise<PlainToken | null> {
    return this.decode(await this.repository.findByIntent(intent));
  }

  /** Rows without decrypting: for listings that never show secrets. */
  async listRaw(): Promise<StoredToken[]> {
    return this.repository.list();
  }

  async save(token: NewStoredToken): Promise<PlainToken> {
    const stored = await this.repository.save({
      ...token,
      accessToken: this.cipher.encrypt(token.accessToken),
      refreshToken: token.refreshToken === null ? null : this.cipher.encrypt(token.refreshToken),
    });
    return { ...stored, accessToken: token.accessToken, refreshToken: token.refreshToken };
  }

  async update(userId: string, changes: StoredTokenChanges, condition?: UpdateCondition): Promise<PlainToken | null> {
    const encrypted: StoredTokenChanges = { ...changes };
    if (changes.accessToken !== undefined) encrypted.accessToken = this.cipher.encrypt(changes.accessToken);
    if (changes.refreshToken !== undefined && changes.refreshToken !== null)
      encrypted.refreshToken = this.cipher.encrypt(changes.refreshToken);
    return this.decode(await this.repository.update(userId, encrypted, condition));
  }

  async delete(userId: string): Promise<boolean> {
    return this.repository.delete(userId);
  }

  /** Takes the lease and decrypts the row; a row that does not decrypt gives the lease back at once. */
  async acquireLease(userId: string, owner: string, until: number, now: number): Promise<PlainToken | null> {
    const row = await this.repository.acquireLease(userId, owner, until, now);
    try {
      return this.decode(row);
    } catch (error) {
      await this.repository.releaseLease(userId, owner);
      throw error;
    }
  }

  async releaseLease(userId: string, owner: string): Promise<void> {
    await this.repository.releaseLease(userId, owner);
  }

  /** Decrypts a row's secrets; throws `TokenDecryptionError` / `EncryptionKeyMissingError`. */
  decode(row: StoredToken | null): PlainToken | null {
    if (!row) return null;
    const accessToken = this.reveal(row.userId, row.accessToken);
    const refreshToken = row.refreshToken === null ? null : this.reveal(row.userId, row.refreshToken);
    return { ...row, accessToken, refreshToken };
  }

  private reveal(userId: string, value: string): string {
    const plain = this.cipher.decrypt(value);
    if (plain === 'no-key') throw new EncryptionKeyMissingError(userId);
    if (plain === 'wrong-key') throw new TokenDecryptionError(userId);
    return plain;
  }
}

/** The usable token of a row. */
export function toAccessToken(row: PlainToken): AccessToken {
  return new AccessToken({
    userId: row.userId,
    login: row.login,
    accessToken: row.accessToken,
    refreshToken: row.refreshToken,
    scopes: internScopes(row.scopes),
    expiresAt: row.expiresAt,
    obtainedAt: row.obtainedAt,
  });
}

/** The secret-free facts of a row. */
export function toTokenInfo(row: StoredToken): TokenInfo {
  return {
    userId: row.userId,
    login: row.login,
    scopes: [...row.scopes],
    expiresAt: row.expiresAt === null ? null : new Date(row.expiresAt),
    obtainedAt: new Date(row.obtainedAt),
    lastValidatedAt: row.lastValidatedAt === null ? null : new Date(row.lastValidatedAt),
    status: row.status,
    intents: [...row.intents],
  };
}
