import type { ConduitShardStore } from '../storage/conduit-shard-store.interface.js';
import { EventSubConduitError } from './eventsub-conduit.errors.js';
import type { EventSubConduitHelix } from './eventsub-conduit.helix.js';
import {
  EventSubWebSocketConnection,
  eventSubReconnectDelayMs,
  type EventSubWebSocketDelivery,
  type EventSubWebSocketLoss,
} from './eventsub-websocket.connection.js';

/** A shard this instance holds, whatever carries it (a socket, or the webhook callback). */
export interface HeldConduitShard {
  readonly shardId: number;
  /** True while Twitch delivers the shard's messages here. */
  readonly associated: boolean;
  /** When the shard was last associated (ms since the epoch), or null while it is not. */
  readonly associatedAt: number | null;
  /** Associates the shard (opening its socket first, if it has one). */
  start(): void;
  /** Associates it again (Twitch reported it disabled). */
  reassociate(): void;
  /** Stops carrying the shard. */
  close(): void;
}

/** What every shard of one instance shares. */
export interface ConduitShardContext {
  conduitId: string;
  /** This instance's lease owner id. */
  owner: string;
  /** The EventSub WebSocket endpoint. */
  url: string;
  keepaliveTimeoutSeconds?: number;
  maxMessageAgeMs?: number;
  helix: EventSubConduitHelix;
  store: ConduitShardStore;
  /** Every message of the shard's socket. */
  deliver(delivery: EventSubWebSocketDelivery): void;
  /** Called after each successful association. */
  associated(shard: HeldConduitShard): void;
  logger: { warn(message: string): void; log(message: string): void; debug?(message: string): void };
}

/**
 * One shard this instance holds: its socket, associated with Twitch right
 * after the welcome (Twitch closes a socket unused 10 s after it), opened
 * again with backoff whenever it is lost, and associated again each time
 * (a new socket is a new session).
 */
export class ConduitShard implements HeldConduitShard {
  private connection: EventSubWebSocketConnection | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  private associatedSession: string | null = null;
  /** When the shard was last associated (ms since the epoch), or null while it is not. */
  associatedAt: number | null = null;

  constructor(
    /** Twitch's shard id. */
    readonly shardId: number,
    private readonly context: ConduitShardContext,
  ) {}

  /** True while the socket is up and associated with Twitch. */
  get associated(): boolean {
    return this.associatedSession !== null && this.connection?.sessionId === this.associatedSession;
  }

  /** Opens the socket and associates it. */
  start(): void {
    void this.open();
  }

  /** Associates the current session again (Twitch reported the shard disabled); reopens when there is none. */
  reassociate(): void {
    const sessionId = this.connection?.sessionId;
    if (this.closed || this.retryTimer !== null) return;
    if (!sessionId) return this.retry();
    this.associate(sessionId).catch((error: unknown) => this.failed(this.connection!, error));
  }

  /** Closes the socket and stops reopening it; Twitch then disables the shard and delivers to the others. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connection?.close();
    this.connection = null;
    this.associatedSession = null;
    this.associatedAt = null;
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    const { url, keepaliveTimeoutSeconds, maxMessageAgeMs, logger } = this.context;
    const connection: EventSubWebSocketConnection = new EventSubWebSocketConnection({
      url,
      transport: 'conduit',
      // Every message is claimed in the shared ClaimStore, which also catches repeats across a reconnect.
      dropRepeats: false,
      keepaliveTimeoutSeconds,
      maxMessageAgeMs,
      onMessage: (delivery) => this.context.deliver(delivery),
      onLost: (loss) => this.lost(connection, loss),
      onSessionChanged: (sessionId) => this.sessionChanged(connection, sessionId),
      logger,
    });
    this.connection = connection;
    try {
      const sessionId = await connection.connect();
      if (this.connection !== connection) return connection.close();
      await this.associate(sessionId);
      this.failures = 0;
    } catch (error) {
      this.failed(connection, error);
    }
  }

  private async associate(sessionId: string): Promise<void> {
    const { helix, store, conduitId, owner } = this.context;
    const refusals = await helix.associateWebSocketShards(conduitId, [{ shardId: this.shardId, sessionId }]);
    if (refusals.length > 0) {
      throw new EventSubConduitError(`Twitch refused to associate conduit shard ${this.shardId}: ${refusals[0]!.message}.`);
    }
    if (this.closed) return;
    this.associatedSession = sessionId;
    this.associatedAt = Date.now();
    await store.recordAssociation(conduitId, this.shardId, owner, sessionId, this.associatedAt);
    this.context.associated(this);
  }

  /** Twitch moved the session to another server: the shard's association moves with it. */
  private sessionChanged(connection: EventSubWebSocketConnection, sessionId: string): void {
    if (connection !== this.connection) return;
    this.associatedSession = sessionId;
    const { store, conduitId, owner } = this.context;
    store.recordAssociation(conduitId, this.shardId, owner, sessionId, Date.now()).catch(() => undefined);
  }

  private lost(connection: EventSubWebSocketConnection, loss: EventSubWebSocketLoss): void {
    if (connection !== this.connection || this.closed) return;
    this.context.logger.warn(`Conduit shard ${this.shardId} lost its socket (${loss.reason}); opening a new one.`);
    this.failed(connection, null);
  }

  private failed(connection: EventSubWebSocketConnection, error: unknown): void {
    if (connection !== this.connection || this.closed) return;
    if (error)
      this.context.logger.warn(
        `Conduit shard ${this.shardId} could not be associated: ${error instanceof Error ? error.message : String(error)}`,
      );
    connection.close();
    this.retry();
  }

  private retry(): void {
    this.associatedSession = null;
    this.associatedAt = null;
    if (this.closed || this.retryTimer !== null) return;
    this.failures += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, eventSubReconnectDelayMs(this.failures));
  }
}
