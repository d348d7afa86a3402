import { Inject, Injectable } from '@nestjs/common';
import {
  TokenRepository,
  type NewStoredToken,
  type StoredToken,
  type StoredTokenChanges,
  type UpdateCondition,
} from '../storage/token-repository.interface.js';
import { hasTokenBatchOperations, type BatchedUpdate } from '../storage/token-batches.interface.js';
import { AccessToken, type TokenInfo } from './access-token.js';
import { TokenCipher, type TokenColumn } from './token-cipher.js';
import { EncryptionKeyMissingError, PlaintextTokenError, TokenDecryptionError } from './token.errors.js';
import { internScopes } from './scopes.js';

/** A stored row with its secrets in plain text. Never leaves the library. */
export type PlainToken = StoredToken;

/**
 * The repository seen through the cipher: secrets are encrypted on the way in
 * and decrypted on the way out. A row that does not decrypt raises a clear
 * error and is never written over. A row whose secrets are in an older form
 * (v1, a previous key, plain during a migration) is rewritten in the current
 * form by its next write.
 */
@Injectable()
export class TokenStore {
  /** Rows `decode` returned whose secrets are in an older form (see `needsReseal`). */
  private readonly outdated = new WeakSet<PlainToken>();

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
    const stored = await this.repository.save({ ...token, ...this.seal(token.userId, token) });
    return { ...stored, accessToken: token.accessToken, refreshToken: token.refreshToken };
  }

  async update(userId: string, changes: StoredTokenChanges, condition?: UpdateCondition): Promise<PlainToken | null> {
    const encrypted: StoredTokenChanges = { ...changes, ...this.seal(userId, changes) };
    const written = await this.repository.update(userId, encrypted, condition);
    if (!written) return null;
    const opened = this.open(written);
    if (opened.current) return opened.token;
    // The untouched secret is still in an older form: this write is its chance to move to the current one.
    const upgraded = await this.repository.update(userId, this.seal(userId, opened.token), { version: written.version });
    return upgraded ? this.decode(upgraded) : opened.token;
  }

  /**
   * Fenced writes in one transaction when the repository has batch
   * operations (else one `update` each); secrets are sealed, nothing is read
   * back or upgraded. Per write, whether it landed.
   */
  async updateMany(writes: readonly BatchedUpdate[]): Promise<boolean[]> {
    const sealed = writes.map((write) => ({ ...write, changes: { ...write.changes, ...this.seal(write.userId, write.changes) } }));
    const repository = this.repository;
    if (hasTokenBatchOperations(repository)) return repository.updateMany(sealed);
    const landed: boolean[] = [];
    for (const write of sealed) landed.push((await repository.update(write.userId, write.changes, write.condition)) !== null);
    return landed;
  }

  /**
   * Rewrites `row`'s secrets with the current key unless they already are;
   * plain values are encrypted whatever `acceptPlaintextTokens` says. Only
   * writes if the row is unchanged since it was read (`version`): `'changed'`
   * means read it again and retry. Throws like `decode` for a row no key opens.
   */
  async reseal(row: StoredToken): Promise<'current' | 'rewritten' | 'changed'> {
    if (this.isCurrent(row)) return 'current';
    const opened = this.open(row, true);
    const written = await this.repository.update(row.userId, this.seal(row.userId, opened.token), { version: row.version });
    return written ? 'rewritten' : 'changed';
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

  /** Releases `owner`'s leases of `userIds`: one statement when the repository has batch operations. */
  async releaseLeases(userIds: readonly string[], owner: string): Promise<void> {
    const repository = this.repository;
    if (hasTokenBatchOperations(repository)) return repository.releaseLeases(userIds, owner);
    for (const userId of userIds) await repository.releaseLease(userId, owner);
  }

  /** True when `row`'s secrets are already in the form a write would give them (false too when they do not decrypt). */
  isCurrent(row: StoredToken): boolean {
    try {
      return this.open(row, true).current;
    } catch {
      return false;
    }
  }

  /** Decrypts a row's secrets; throws `TokenDecryptionError`, `PlaintextTokenError` or `EncryptionKeyMissingError`. */
  decode(row: StoredToken | null): PlainToken | null {
    if (!row) return null;
    const opened = this.open(row);
    if (!opened.current) this.outdated.add(opened.token);
    return opened.token;
  }

  /**
   * True for a row `decode` returned whose secrets are in an older form:
   * its next write must go through `update`, which moves them to the
   * current one, not a batched write that leaves them as they are.
   */
  needsReseal(row: PlainToken): boolean {
    return this.outdated.has(row);
  }

  /** The row decrypted, and whether both secrets are already in the form a write would give them. */
  private open(row: StoredToken, acceptPlaintext?: boolean): { token: PlainToken; current: boolean } {
    const access = this.reveal(row.userId, 'access_token', row.accessToken, acceptPlaintext);
    const refresh = row.refreshToken === null ? null : this.reveal(row.userId, 'refresh_token', row.refreshToken, acceptPlaintext);
    return {
      token: { ...row, accessToken: access.plain, refreshToken: refresh?.plain ?? null },
      current: access.current && (refresh?.current ?? true),
    };
  }

  private reveal(userId: string, column: TokenColumn, value: string, acceptPlaintext?: boolean): { plain: string; current: boolean } {
    const revealed = this.cipher.decrypt(value, { userId, column }, acceptPlaintext);
    if (!('failure' in revealed)) return revealed;
    if (revealed.failure === 'no-key') throw new EncryptionKeyMissingError(userId);
    if (revealed.failure === 'plaintext') throw new PlaintextTokenError(userId);
    throw new TokenDecryptionError(userId);
  }

  /** The secrets among `fields`, encrypted for `userId`'s row (a null refresh token stays null). */
  private seal(
    userId: string,
    fields: { accessToken?: string; refreshToken?: string | null },
  ): Pick<StoredTokenChanges, 'accessToken' | 'refreshToken'> {
    const sealed: Pick<StoredTokenChanges, 'accessToken' | 'refreshToken'> = {};
    if (fields.accessToken !== undefined) sealed.accessToken = this.cipher.encrypt(fields.accessToken, { userId, column: 'access_token' });
    if (fields.refreshToken !== undefined)
      sealed.refreshToken =
        fields.refreshToken === null ? null : this.cipher.encrypt(fields.refreshToken, { userId, column: 'refresh_token' });
    return sealed;
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
