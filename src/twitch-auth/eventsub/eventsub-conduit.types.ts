/** What one instance holds of the conduit (`EventSubConduitShards.status()`, the health indicator). */
export interface EventSubConduitStatus {
  /** False when `eventSub.conduit` is not configured (everything else is then empty). */
  enabled: boolean;
  /** The conduit in use, or null before it was found. */
  conduitId: string | null;
  /** This instance's lease owner id. */
  owner: string;
  /** Shards of the conduit, as of the last round. */
  shardCount: number;
  /** Live instances sharing the conduit, as of the last round. */
  instances: number;
  /** Shard ids this instance holds. */
  shardsHeld: number[];
  /** Held shards whose socket is not (yet, or no longer) associated with Twitch. */
  shardsDisabled: number[];
  /** When this instance last associated a shard, or null. */
  lastAssociationAt: Date | null;
  /** Why the last round failed, or null. */
  lastError: string | null;
}
