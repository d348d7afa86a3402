import type { StoredToken, StoredTokenChanges, UpdateCondition } from './token-repository.interface.js';

/** Which due tokens a claim takes and for whom; instants are epoch ms as in the due-queries. */
export interface ClaimRequest {
  /** Lease holder written on every claimed row. */
  owner: string;
  /** When the claimed leases lapse if the holder vanishes. */
  until: number;
  /** As in the due-queries: `retryAt` and future-stamped rows are judged against it. */
  now: number;
  /** At most this many rows. */
  limit: number;
}

/** One fenced write of a batch: `update`'s arguments without intents (maintenance never moves them). */
export interface BatchedUpdate {
  userId: string;
  changes: Omit<StoredTokenChanges, 'intents'>;
  condition: UpdateCondition;
}

/**
 * Optional capability of a `TokenRepository`: the batch primitives that let
 * maintenance cost one statement per batch instead of several per token, and
 * let several instances split the due work instead of racing for it. Both
 * built-in repositories implement it; a custom repository without it is
 * maintained token by token through `acquireLease` and `update`.
 */
export interface TokenBatchOperations {
  /**
   * Like `listDueForRefresh`, but only rows whose lease is free, and each
   * returned row is leased to `owner` until `until` in the same atomic step,
   * so concurrent claims (other instances) never return the same row.
   * Rows come back with the lease written; `version` is unchanged.
   */
  claimDueForRefresh(expiringBefore: number, request: ClaimRequest): Promise<StoredToken[]>;
  /** Like `listDueForValidation` (future-stamped rows first), claimed as `claimDueForRefresh` claims. */
  claimDueForValidation(validatedBefore: number, request: ClaimRequest): Promise<StoredToken[]>;
  /**
   * Applies each write as `update` would (conditions checked, `version`
   * incremented), all in one transaction; the answer says, per write in
   * order, whether it landed. Rows are not read back.
   */
  updateMany(writes: readonly BatchedUpdate[]): Promise<boolean[]>;
  /** Releases every listed lease that `owner` holds; does not change `version`. */
  releaseLeases(userIds: readonly string[], owner: string): Promise<void>;
}

/** Whether a repository implements the optional `TokenBatchOperations`. */
export function hasTokenBatchOperations(repository: unknown): repository is TokenBatchOperations {
  const candidate = repository as Partial<TokenBatchOperations> | null;
  return (
    typeof candidate?.claimDueForRefresh === 'function' &&
    typeof candidate.claimDueForValidation === 'function' &&
    typeof candidate.updateMany === 'function' &&
    typeof candidate.releaseLeases === 'function'
  );
}
