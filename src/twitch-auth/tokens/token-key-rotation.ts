import { Injectable } from '@nestjs/common';
import { TokenCipher } from './token-cipher.js';
import { TokenStore } from './token-store.js';
import { EncryptionKeyRequiredError, TokenDecryptionError } from './token.errors.js';

/** How far a rotation got; reported after every batch. */
export interface KeyRotationProgress {
  /** Rows looked at so far. */
  processed: number;
  /** Rows in the store when the rotation started. */
  total: number;
  /** Rows rewritten with the current key. */
  rewritten: number;
  /** Rows already on the current key (or deleted meanwhile): left as they were. */
  skipped: number;
  /** User ids of rows no configured key opens: left untouched. */
  failed: string[];
}

/** What `TokenKeyRotator.rotate` accepts. */
export interface KeyRotationOptions {
  /** Rows per batch; progress is reported and `signal` checked between batches. Default 500. */
  batchSize?: number;
  /** Stops the rotation between two batches; rows done so far stay done. */
  signal?: AbortSignal;
  /** Called after every batch. */
  onProgress?: (progress: KeyRotationProgress) => void;
}

/** The outcome of a rotation: the last progress, and whether it stopped early. */
export interface KeyRotationResult extends KeyRotationProgress {
  interrupted: boolean;
}

/** How often a row written by someone else while it was rewritten is read and tried again. */
const MAX_ATTEMPTS_PER_ROW = 5;

/**
 * Rewrites every stored token with the current `encryptionKey` (and the
 * current format): after it, the old key can be dropped from
 * `previousEncryptionKeys`. Plain rows are encrypted too. Each row is written
 * only if unchanged since it was read, so running instances are never
 * overwritten; rows already current are skipped, so an interrupted rotation
 * is finished by running it again.
 */
@Injectable()
export class TokenKeyRotator {
  /**
   * Built by Nest's injector from the module's providers: inject this class
   * instead of constructing it.
   * @internal
   */
  constructor(
    private readonly store: TokenStore,
    private readonly cipher: TokenCipher,
  ) {}

  /** Runs the rotation over every row; see the class comment. */
  async rotate(options: KeyRotationOptions = {}): Promise<KeyRotationResult> {
    if (!this.cipher.enabled) throw new EncryptionKeyRequiredError();
    const batchSize = options.batchSize ?? 500;
    const userIds = (await this.store.listRaw()).map((row) => row.userId);
    const progress: KeyRotationProgress = { processed: 0, total: userIds.length, rewritten: 0, skipped: 0, failed: [] };
    for (let start = 0; start < userIds.length; start += batchSize) {
      if (options.signal?.aborted) return { ...progress, interrupted: true };
      for (const userId of userIds.slice(start, start + batchSize)) {
        const outcome = await this.rotateRow(userId);
        if (outcome === 'rewritten') progress.rewritten++;
        else if (outcome === 'skipped') progress.skipped++;
        else progress.failed.push(userId);
        progress.processed++;
      }
      options.onProgress?.({ ...progress, failed: [...progress.failed] });
    }
    return { ...progress, interrupted: false };
  }

  /** One row: read, rewrite if needed; a row changed meanwhile is read again. */
  private async rotateRow(userId: string): Promise<'rewritten' | 'skipped' | 'failed'> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_ROW; attempt++) {
      // The batch's listing may be stale by now: each row is read just before it is rewritten.
      const row = await this.store.repository.get(userId);
      if (!row) return 'skipped';
      let outcome: 'current' | 'rewritten' | 'changed';
      try {
        outcome = await this.store.reseal(row);
      } catch (error) {
        if (error instanceof TokenDecryptionError) return 'failed';
        throw error;
      }
      if (outcome === 'current') return 'skipped';
      if (outcome === 'rewritten') return 'rewritten';
    }
    // Written by others on every attempt; their writes use the current key, so the row is most likely done.
    const row = await this.store.repository.get(userId);
    return row === null || this.store.isCurrent(row) ? 'skipped' : 'failed';
  }
}
