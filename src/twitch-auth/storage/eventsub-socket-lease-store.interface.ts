/** The lease on one user's EventSub WebSocket subscriptions, as the store knows it. */
export interface EventSubSocketLease {
  /** The user whose sockets and subscriptions the lease covers. */
  userId: string;
  /** The instance holding the lease. */
  owner: string;
  /** When the lease lapses if its holder stops renewing it (ms since the epoch). */
  leaseExpiresAt: number;
}

/**
 * Where the instances sharing one database agree which of them opens each
 * user's EventSub WebSocket sockets and creates the user's stored
 * subscriptions: a lease per user (a user without a row is free), and a
 * heartbeat per instance so each knows how many share the users. The
 * interface and its injection token share one name. Every method is atomic
 * on its own; the contract suite in `test/storage` states the semantics.
 */
export interface EventSubSocketLeaseStore {
  /**
   * Records that `owner` is alive until `until`, forgets instances whose
   * heartbeat lapsed at `now`, and returns the live instances, sorted.
   */
  announce(owner: string, until: number, now: number): Promise<string[]>;
  /**
   * Takes, for `owner` until `until`, each of `userIds` that is free, whose
   * lease lapsed at `now`, or that `owner` holds already, and returns those
   * ids. No two owners ever hold one user: a live lease of another owner is
   * never taken.
   */
  claim(owner: string, userIds: readonly string[], until: number, now: number): Promise<string[]>;
  /**
   * Extends every lease `owner` still holds to `until` and returns those
   * user ids, sorted; a user another owner took over is not among them.
   */
  renew(owner: string, until: number): Promise<string[]>;
  /** Frees the given users if `owner` holds them. */
  release(owner: string, userIds: readonly string[]): Promise<void>;
  /** Frees every user of `owner` and removes its heartbeat: others may take them at once. */
  leave(owner: string): Promise<void>;
  /** Every lease, live or lapsed, sorted by user id. */
  list(): Promise<EventSubSocketLease[]>;
}

/** Injection token of the configured store. */
export const EventSubSocketLeaseStore = Symbol('EventSubSocketLeaseStore');
