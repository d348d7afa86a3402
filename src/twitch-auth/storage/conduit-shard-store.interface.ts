/** One shard of a conduit as the store knows it. */
export interface ConduitShardLease {
  /** Twitch's shard id (`0` … shard count − 1). */
  shardId: number;
  /** The instance holding the shard's lease, or null when it is free. */
  owner: string | null;
  /** When the lease lapses if its holder stops renewing it (ms since the epoch), or null. */
  leaseExpiresAt: number | null;
  /** The WebSocket session (or webhook callback) the holder last associated the shard with, or null. */
  sessionId: string | null;
  /** When the holder last associated the shard with Twitch (ms since the epoch), or null. */
  associatedAt: number | null;
}

/**
 * Where the instances sharing one conduit agree who holds which shard: a
 * lease per shard (the idea of token leases, in a table of its own), a
 * heartbeat per instance so each knows how many share the work, and the
 * conduit id found or created for a configured name. The interface and its
 * injection token share one name. Every method is atomic on its own; the
 * contract suite in `test/storage` states the semantics.
 */
export interface ConduitShardStore {
  /** The conduit id stored under `name` by whichever instance found or created it, or null. */
  findConduitId(name: string): Promise<string | null>;
  /** Stores (or replaces) the conduit id of `name`. */
  saveConduitId(name: string, conduitId: string): Promise<void>;
  /**
   * Makes the conduit have exactly shards `0 … count − 1`: missing rows are
   * added free, rows at or past `count` are removed (their holders see them
   * gone at their next renewal).
   */
  setShardCount(conduitId: string, count: number): Promise<void>;
  /**
   * Records that `owner` is alive until `until`, forgets instances whose
   * heartbeat lapsed at `now`, and returns the live instances, sorted.
   */
  announce(conduitId: string, owner: string, until: number, now: number): Promise<string[]>;
  /**
   * Takes up to `max` shards that are free or whose lease lapsed at `now`
   * for `owner` until `until`, lowest ids first, and returns their ids. No
   * two owners ever hold one shard.
   */
  claim(conduitId: string, owner: string, max: number, until: number, now: number): Promise<number[]>;
  /**
   * Extends every lease `owner` still holds to `until` and returns those
   * shard ids; a shard another owner took over is not among them.
   */
  renew(conduitId: string, owner: string, until: number): Promise<number[]>;
  /** Frees the given shards if `owner` holds them. */
  release(conduitId: string, owner: string, shardIds: readonly number[]): Promise<void>;
  /** Frees every shard of `owner` and removes its heartbeat: others may take its share at once. */
  leave(conduitId: string, owner: string): Promise<void>;
  /** Records the shard's association if `owner` still holds it; false when it does not. */
  recordAssociation(conduitId: string, shardId: number, owner: string, sessionId: string, at: number): Promise<boolean>;
  /** Every shard of the conduit, by id. */
  list(conduitId: string): Promise<ConduitShardLease[]>;
}

/** Injection token of the configured conduit shard store. */
export const ConduitShardStore = Symbol('ConduitShardStore');
