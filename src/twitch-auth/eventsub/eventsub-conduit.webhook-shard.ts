import { EventSubConduitError } from './eventsub-conduit.errors.js';
import type { ConduitShardContext, HeldConduitShard } from './eventsub-conduit.shard.js';
import { eventSubReconnectDelayMs } from './eventsub-websocket.connection.js';

/**
 * One shard this instance holds, pointed at the app's webhook callback
 * (`eventSub.publicUrl` + the callback path) instead of a socket: Twitch
 * verifies the callback with a challenge, then posts the shard's messages to
 * it, and the webhook receiver dispatches them like any other. A failed
 * association is tried again with backoff.
 */
export class ConduitWebhookShard implements HeldConduitShard {
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  /** When the shard was last associated (ms since the epoch), or null while it is not. */
  associatedAt: number | null = null;

  constructor(
    /** Twitch's shard id. */
    readonly shardId: number,
    private readonly context: ConduitShardContext,
    private readonly webhook: { callback: string; secret: string },
  ) {}

  /** True once Twitch accepted the callback for this shard. */
  get associated(): boolean {
    return this.associatedAt !== null;
  }

  /** Associates the shard with the callback. */
  start(): void {
    void this.associate();
  }

  /** Associates again (Twitch reported the shard disabled, e.g. after failed deliveries). */
  reassociate(): void {
    if (this.closed || this.retryTimer !== null) return;
    this.associatedAt = null;
    void this.associate();
  }

  /** Stops retrying; the instance taking the shard over points it at its own callback. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.associatedAt = null;
  }

  private async associate(): Promise<void> {
    const { helix, store, conduitId, owner, logger } = this.context;
    try {
      const refusals = await helix.associateWebhookShards(conduitId, [{ shardId: this.shardId, ...this.webhook }]);
      if (refusals.length > 0) {
        throw new EventSubConduitError(`Twitch refused the callback for conduit shard ${this.shardId}: ${refusals[0]!.message}.`);
      }
      if (this.closed) return;
      this.failures = 0;
      this.associatedAt = Date.now();
      await store.recordAssociation(conduitId, this.shardId, owner, this.webhook.callback, this.associatedAt);
      this.context.associated(this);
    } catch (error) {
      if (this.closed) return;
      logger.warn(`Conduit shard ${this.shardId} could not be associated: ${error instanceof Error ? error.message : String(error)}`);
      this.failures += 1;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.associate();
      }, eventSubReconnectDelayMs(this.failures));
    }
  }
}
