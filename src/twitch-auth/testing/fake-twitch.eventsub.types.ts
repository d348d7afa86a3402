/** Public shapes of FakeTwitch's EventSub WebSocket server, conduits and publishing. */

/** Where a session stands: open, told to reconnect, or gone. */
export type FakeEventSubSessionStatus = 'connected' | 'reconnecting' | 'closed';

/** An EventSub WebSocket session as FakeTwitch saw it, for assertions. */
export interface FakeEventSubSessionInfo {
  sessionId: string;
  status: FakeEventSubSessionStatus;
  keepaliveTimeoutSeconds: number;
  /** RFC 3339 time the socket connected. */
  connectedAt: string;
  /** Close code once closed (by FakeTwitch or the client); `null` while open. */
  closeCode: number | null;
  /** The session this one took over through `session_reconnect`, if any. */
  reconnectedFrom: string | null;
  /** User whose token created the session's subscriptions; `null` before the first one. */
  userId: string | null;
  /** Messages sent other than keepalives (welcome, notifications, revocations, reconnects). */
  messagesSent: number;
  keepalivesSent: number;
  keepalivesPaused: boolean;
}

/** One message FakeTwitch delivered (or tried to) for `publishEventSub` or a revocation. */
export interface FakeEventSubDelivery {
  messageId: string;
  messageType: 'notification' | 'revocation';
  subscriptionId: string;
  subscriptionType: string;
  /** How the subscription receives: its own socket or callback, or through a conduit's shard. */
  transport: 'websocket' | 'webhook' | 'conduit';
  /** Socket that got it (websocket subscriptions and websocket shards). */
  sessionId?: string;
  conduitId?: string;
  shardId?: string;
  /** Callback that got it (webhook subscriptions and webhook shards). */
  callback?: string;
  /** Webhook answer status; absent for sockets, 0 when the request failed. */
  status?: number;
  /** Epoch milliseconds (FakeTwitch's clock). */
  at: number;
}

/** Options of `FakeTwitch.publishEventSub`. */
export interface FakeEventSubPublishOptions {
  /** Only subscriptions whose condition has every one of these values. Default: every subscription of the type (and version). */
  condition?: Record<string, string>;
  /** Message id to send (to test de-duplication). Default: a fresh UUID per delivery. */
  messageId?: string;
  /** Message timestamp to send (to test refusal of old messages). Default: now. */
  timestamp?: string | Date;
}

/** What `publishEventSub` delivered, one entry per matching subscription. */
export interface FakeEventSubPublishResult {
  deliveries: FakeEventSubDelivery[];
  /** Message ids of every delivery, in delivery order. */
  messageIds: string[];
}

/** A conduit shard as FakeTwitch keeps it. */
export interface FakeConduitShardInfo {
  shardId: string;
  /** `enabled`, or why not (`websocket_disconnected`, `webhook_callback_verification_failed`, …). */
  status: string;
  method: 'websocket' | 'webhook' | null;
  sessionId?: string;
  callback?: string;
  connectedAt?: string;
  disconnectedAt?: string;
}

/** A conduit and its shards, for assertions. */
export interface FakeConduitInfo {
  conduitId: string;
  shardCount: number;
  shards: FakeConduitShardInfo[];
}
