/** Whether a stored token can still be used or its user must authorize again. */
export type TokenStatus = 'valid' | 'reauth_required';

/**
 * One user's token as a repository stores it. `accessToken` and `refreshToken`
 * are opaque strings to the repository: ciphertext when an encryption key is
 * configured. All instants are milliseconds since the Unix epoch.
 */
export interface StoredToken {
  userId: string;
  login: string | null;
  accessToken: string;
  refreshToken: string | null;
  scopes: string[];
  /** When the access token expires; null when Twitch said it never does. */
  expiresAt: number | null;
  /** When this access token was obtained (granted or refreshed). */
  obtainedAt: number;
  /** When Twitch last confirmed the token through /oauth2/validate; null when never. */
  lastValidatedAt: number | null;
  status: TokenStatus;
  /** Named roles this user's token serves, e.g. `chat`. An intent belongs to at most one user. */
  intents: string[];
  /** Transient failures push maintenance of this token back until this instant (0 = not backed off). */
  retryAt: number;
  /** How many transient failures in a row; reset by a success. */
  failureCount: number;
  /** Incremented by every write of the row; compare-and-set compares it. */
  version: number;
  /** Who holds the per-user lease (refresh or validation in progress), or null. */
  leaseOwner: string | null;
  /** When the lease lapses if its holder vanished. */
  leaseExpiresAt: number | null;
}

/** What `save` needs: everything but the bookkeeping the repository owns. */
export type NewStoredToken = Omit<StoredToken, 'version' | 'leaseOwner' | 'leaseExpiresAt' | 'retryAt' | 'failureCount'> &
  Partial<Pick<StoredToken, 'retryAt' | 'failureCount'>>;

/** Fields `update` may change. `leaseOwner: null` in the same write releases the lease. */
export type StoredTokenChanges = Partial<Omit<StoredToken, 'userId' | 'version' | 'leaseExpiresAt'>>;

/** Preconditions of `update`; every given one must hold or nothing is written. */
export interface UpdateCondition {
  /** The row's `version` must equal this. */
  version?: number;
  /** The lease must be held by this owner (and not lapsed is NOT required: the holder still owns it until someone else takes it). */
  leaseOwner?: string;
}

/**
 * Where tokens live. The interface and its injection token share one name, as
 * `ThrottlerStorage` does: `@Inject(TokenRepository) repo: TokenRepository`.
 *
 * Every method is atomic on its own. Coordination between processes rests on
 * two primitives: `acquireLease` (one holder per user at a time, lapsing after
 * a deadline so a crashed holder cannot block a user forever) and `update`
 * with a condition (compare-and-set on `version` or on the lease holder).
 * The shared contract suite in `test/storage` states the exact semantics;
 * a custom implementation should pass it.
 */
export interface TokenRepository {
  /** The token of one user, or null. */
  get(userId: string): Promise<StoredToken | null>;
  /** The token whose `intents` contain `intent`, or null. */
  findByIntent(intent: string): Promise<StoredToken | null>;
  /** Every stored token, ordered by userId. */
  list(): Promise<StoredToken[]>;
  /**
   * Inserts or replaces the user's token unconditionally (a new grant wins),
   * increments `version`, and clears any lease. The stored `intents` are
   * those the row holds at the moment of the write plus the given ones,
   * decided inside the same atomic write: an intent moved away from this user
   * by a concurrent write stays moved, and none the row holds is dropped (use
   * `update` to replace intents). The given intents are removed from every
   * other user. Returns the stored row.
   */
  save(token: NewStoredToken): Promise<StoredToken>;
  /**
   * Applies `changes` only if every condition holds; increments `version`.
   * Returns the updated row, or null when the row is missing or a condition failed.
   * Changing `intents` removes those intents from every other user.
   */
  update(userId: string, changes: StoredTokenChanges, condition?: UpdateCondition): Promise<StoredToken | null>;
  /** Deletes the user's token; false when there was none. */
  delete(userId: string): Promise<boolean>;
  /**
   * Takes the user's lease for `owner` until `until` if it is free, lapsed
   * (`leaseExpiresAt <= now`) or already held by `owner` (then it is extended).
   * Does not change `version`. Returns the current row on success, null when
   * another owner holds a live lease or the user has no token.
   */
  acquireLease(userId: string, owner: string, until: number, now: number): Promise<StoredToken | null>;
  /** Releases the lease if `owner` holds it; does not change `version`. */
  releaseLease(userId: string, owner: string): Promise<void>;
  /**
   * Valid tokens that can be refreshed (refresh token present) expiring at or
   * before `expiringBefore`, not backed off, soonest first, at most `limit`.
   * Not backed off means `retryAt <= now`, or `retryAt` beyond any real
   * backoff (`now + MAX_RETRY_DELAY_MS + CLOCK_SKEW_TOLERANCE_MS`: written
   * under a clock that ran fast). Must be served by an index, never a full scan.
   */
  listDueForRefresh(expiringBefore: number, now: number, limit: number): Promise<StoredToken[]>;
  /**
   * Valid tokens last validated at or before `validatedBefore` (never-validated
   * ones first), not backed off (as for refresh), oldest first, at most
   * `limit`. Tokens whose `lastValidatedAt` lies in the future (after
   * `now + CLOCK_SKEW_TOLERANCE_MS`, written under a clock that ran fast; their
   * `expiresAt` is not to be trusted either) are due too, and come before all
   * others. Index-served.
   */
  listDueForValidation(validatedBefore: number, now: number, limit: number): Promise<StoredToken[]>;
}

/** The longest backoff the refresher ever writes into `retryAt`. */
export const MAX_RETRY_DELAY_MS = 15 * 60_000;

/**
 * How far instants written by another instance may lie ahead of this one's
 * clock before they count as written under a clock that ran fast.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 60_000;

/** True when `retryAt` holds maintenance back at `now` (a `retryAt` beyond any real backoff does not). */
export function isBackedOff(retryAt: number, now: number): boolean {
  return retryAt > now && retryAt <= now + MAX_RETRY_DELAY_MS + CLOCK_SKEW_TOLERANCE_MS;
}

/** Injection token of the configured repository. */
export const TokenRepository = Symbol('TokenRepository');
