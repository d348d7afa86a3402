import { randomUUID } from 'node:crypto';
import type { WireEventSubSubscription } from '../twitch/eventsub-wire.types.js';
import { EventSubSender, formatEventSubTimestamp } from './eventsub-sender.js';
import type { FakeTwitchContext } from './fake-twitch.context.js';
import type { FakeConduit, FakeConduitShard } from './fake-twitch.conduits.js';
import type { FakeEventSubMessageOptions, FakeEventSubSession } from './fake-twitch.eventsub-session.js';
import { eventSubStateOf, type FakeEventSubState } from './fake-twitch.eventsub-state.js';
import { EventSubCloseCode, FakeEventSubSocketServer } from './fake-twitch.eventsub-ws.js';
import type { FakeEventSubDelivery, FakeEventSubPublishOptions, FakeEventSubPublishResult } from './fake-twitch.eventsub.types.js';
import type { FakeEventSubSubscriptionRecord } from './fake-twitch.helix-store.js';

/** How long FakeTwitch waits for a webhook (subscription or shard) to answer a message. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/** The subscription status Twitch gives when a socket closes with this code. */
const STATUS_BY_CLOSE_CODE: Record<number, string> = {
  [EventSubCloseCode.internalError]: 'websocket_internal_error',
  [EventSubCloseCode.inboundTraffic]: 'websocket_received_inbound_traffic',
  [EventSubCloseCode.pingPongFailed]: 'websocket_failed_ping_pong',
  [EventSubCloseCode.connectionUnused]: 'websocket_connection_unused',
  [EventSubCloseCode.reconnectGraceExpired]: 'websocket_failed_to_reconnect',
  [EventSubCloseCode.networkTimeout]: 'websocket_network_timeout',
  [EventSubCloseCode.networkError]: 'websocket_network_error',
};

/** What one message is: type, subscription it is about, body. */
interface Outgoing {
  messageType: 'notification' | 'revocation';
  record: FakeEventSubSubscriptionRecord;
  event?: Record<string, unknown>;
  options: FakeEventSubMessageOptions;
}

/**
 * Delivers EventSub messages over whatever transport a subscription has: its
 * own WebSocket session, its webhook (signed like Twitch), or a conduit's
 * next enabled shard (either kind), failing over to another shard when one
 * is down and telling `conduit.shard.disabled` subscribers. It also owns the
 * socket server and turns its session events into subscription and shard
 * statuses. Every delivery is logged for assertions.
 */
export class FakeEventSubHub {
  /** The `/ws` endpoint. */
  readonly sockets: FakeEventSubSocketServer;
  private readonly webhooks = new Set<Promise<unknown>>();

  constructor(private readonly context: FakeTwitchContext) {
    const { options } = context;
    this.sockets = new FakeEventSubSocketServer({
      welcomeTimeoutMs: options.eventSubWelcomeTimeoutMs,
      reconnectGraceMs: options.eventSubReconnectGraceMs,
      minKeepaliveSeconds: options.eventSubMinKeepaliveSeconds,
      origin: () => context.url(),
      onSessionClosed: (session, code) => this.onSessionClosed(session, code),
      onSessionReplaced: (from, to) => this.onSessionReplaced(from, to),
    });
  }

  /** Subscriptions, conduits and deliveries as of now (swapped by `FakeTwitch.reset()`). */
  get state(): FakeEventSubState {
    return eventSubStateOf(this.context);
  }

  /** Sends one notification to every enabled subscription of `type` (and `version`) whose condition matches. */
  async publish(
    type: string,
    version: string | undefined,
    event: Record<string, unknown>,
    options: FakeEventSubPublishOptions = {},
  ): Promise<FakeEventSubPublishResult> {
    const deliveries: FakeEventSubDelivery[] = [];
    const pending: Promise<void>[] = [];
    for (const record of this.state.subscriptions.all()) {
      const { subscription } = record;
      if (subscription.status !== 'enabled' || subscription.type !== type) continue;
      if (version !== undefined && subscription.version !== version) continue;
      if (options.condition && !Object.entries(options.condition).every(([key, value]) => subscription.condition[key] === value)) continue;
      const outgoing: Outgoing = { messageType: 'notification', record, event, options };
      this.deliver(outgoing, deliveries, pending);
    }
    await Promise.all(pending);
    return { deliveries, messageIds: deliveries.map((delivery) => delivery.messageId) };
  }

  /** Sets a subscription's status and sends it a `revocation` over its transport. False when unknown. */
  async revoke(subscriptionId: string, status: string): Promise<FakeEventSubDelivery | null | false> {
    const record = this.state.subscriptions.get(subscriptionId);
    if (!record) return false;
    record.subscription.status = status;
    const deliveries: FakeEventSubDelivery[] = [];
    const pending: Promise<void>[] = [];
    this.deliver({ messageType: 'revocation', record, options: {} }, deliveries, pending);
    await Promise.all(pending);
    return deliveries[0] ?? null;
  }

  /** Marks a conduit shard disabled with `status` and tells `conduit.shard.disabled` subscribers. */
  disableShard(conduit: FakeConduit, shard: FakeConduitShard, status: string): void {
    if (shard.status !== 'enabled') return;
    shard.status = status;
    if (shard.transport?.method === 'websocket') shard.transport.disconnected_at = formatEventSubTimestamp(new Date());
    const event = { conduit_id: conduit.id, shard_id: shard.id, status, transport: { ...shard.transport } };
    const deliveries: FakeEventSubDelivery[] = [];
    const pending: Promise<void>[] = [];
    for (const record of this.state.subscriptions.all()) {
      const { subscription } = record;
      if (subscription.status !== 'enabled' || subscription.type !== 'conduit.shard.disabled') continue;
      if (subscription.condition.client_id !== this.context.options.clientId) continue;
      if (subscription.condition.conduit_id && subscription.condition.conduit_id !== conduit.id) continue;
      this.deliver({ messageType: 'notification', record, event, options: {} }, deliveries, pending);
    }
    this.track(Promise.all(pending));
  }

  /** Ends the socket server and waits for webhook deliveries in flight. */
  async close(): Promise<void> {
    await this.sockets.close();
    await Promise.allSettled([...this.webhooks]);
  }

  private deliver(outgoing: Outgoing, deliveries: FakeEventSubDelivery[], pending: Promise<void>[]): void {
    const { subscription } = outgoing.record;
    const transport = subscription.transport;
    if (transport.method === 'websocket') {
      const session = this.sockets.get(transport.session_id ?? '');
      const messageId = session ? this.sendOverSession(session, outgoing) : null;
      if (messageId) deliveries.push(this.logged({ ...this.base(outgoing, messageId), transport: 'websocket', sessionId: session!.id }));
    } else if (transport.method === 'webhook') {
      pending.push(
        this.sendOverWebhook(outgoing, transport.callback!, outgoing.record.secret, { transport: 'webhook' }, deliveries).then(
          () => undefined,
        ),
      );
    } else if (transport.method === 'conduit') {
      const conduit = this.state.conduits.get(transport.conduit_id ?? '');
      if (conduit) this.deliverToConduit(outgoing, conduit, new Set(), deliveries, pending);
    }
  }

  private deliverToConduit(
    outgoing: Outgoing,
    conduit: FakeConduit,
    tried: Set<FakeConduitShard>,
    deliveries: FakeEventSubDelivery[],
    pending: Promise<void>[],
  ): void {
    const shard = this.state.conduits.pickShard(conduit, tried);
    if (!shard || !shard.transport) return;
    tried.add(shard);
    const where = { transport: 'conduit' as const, conduitId: conduit.id, shardId: shard.id };
    if (shard.transport.method === 'websocket') {
      const session = this.sockets.get(shard.transport.session_id ?? '');
      const messageId = session ? this.sendOverSession(session, outgoing) : null;
      if (messageId) {
        deliveries.push(this.logged({ ...this.base(outgoing, messageId), ...where, sessionId: session!.id }));
        return;
      }
      // A socket that went away between its close and our noticing: Twitch moves on to another shard.
      this.disableShard(conduit, shard, 'websocket_disconnected');
      return this.deliverToConduit(outgoing, conduit, tried, deliveries, pending);
    }
    const callback = shard.transport.callback!;
    pending.push(
      this.sendOverWebhook(outgoing, callback, shard.secret ?? '', where, deliveries).then((ok) => {
        if (ok) return;
        this.disableShard(conduit, shard, 'notification_failures_exceeded');
        const retried: Promise<void>[] = [];
        this.deliverToConduit(outgoing, conduit, tried, deliveries, retried);
        return Promise.all(retried).then(() => undefined);
      }),
    );
  }

  private sendOverSession(session: FakeEventSubSession, { messageType, record, event, options }: Outgoing): string | null {
    const subscription = wireForMessage(record.subscription);
    const payload = event === undefined ? { subscription } : { subscription, event };
    return session.send(messageType, payload, {
      ...options,
      subscriptionType: subscription.type,
      subscriptionVersion: subscription.version,
    });
  }

  /** Resolves true when the webhook answered 2xx. */
  private sendOverWebhook(
    { messageType, record, event, options }: Outgoing,
    callback: string,
    secret: string,
    where: Partial<FakeEventSubDelivery>,
    deliveries: FakeEventSubDelivery[],
  ): Promise<boolean> {
    const sender = new EventSubSender({ callbackUrl: callback, secret, timeoutMs: WEBHOOK_TIMEOUT_MS });
    const messageId = options.messageId ?? randomUUID();
    const delivery = this.logged({ ...this.base({ messageType, record }, messageId), transport: 'webhook', ...where, callback, status: 0 });
    deliveries.push(delivery);
    const subscription = wireForMessage(record.subscription);
    const body = event === undefined ? { subscription } : { subscription, event };
    const sent = sender
      .send(messageType, body, { messageId, timestamp: options.timestamp })
      .then((result) => {
        delivery.status = result.status;
        return result.status >= 200 && result.status < 300;
      })
      .catch(() => false);
    this.track(sent);
    return sent;
  }

  private base({ messageType, record }: Pick<Outgoing, 'messageType' | 'record'>, messageId: string) {
    return { messageId, messageType, subscriptionId: record.subscription.id, subscriptionType: record.subscription.type };
  }

  private logged(delivery: Omit<FakeEventSubDelivery, 'at'>): FakeEventSubDelivery {
    const entry: FakeEventSubDelivery = { ...delivery, at: this.context.options.now() };
    this.state.deliveries.push(entry);
    return entry;
  }

  private track(promise: Promise<unknown>): void {
    const settled = promise.catch(() => undefined).finally(() => this.webhooks.delete(settled));
    this.webhooks.add(settled);
  }

  private onSessionClosed(session: FakeEventSubSession, code: number): void {
    const status = STATUS_BY_CLOSE_CODE[code] ?? 'websocket_disconnected';
    const disconnectedAt = formatEventSubTimestamp(new Date());
    for (const { subscription } of this.state.subscriptions.all()) {
      if (subscription.transport.method !== 'websocket' || subscription.transport.session_id !== session.id) continue;
      if (subscription.status !== 'enabled') continue;
      subscription.status = status;
      subscription.transport.disconnected_at = disconnectedAt;
    }
    for (const { conduit, shard } of this.state.conduits.shardsOfSession(session.id)) this.disableShard(conduit, shard, status);
  }

  private onSessionReplaced(from: FakeEventSubSession, to: FakeEventSubSession): void {
    for (const { subscription } of this.state.subscriptions.all()) {
      if (subscription.transport.method !== 'websocket' || subscription.transport.session_id !== from.id) continue;
      subscription.transport.session_id = to.id;
      subscription.transport.connected_at = to.connectedAt;
    }
    for (const { shard } of this.state.conduits.shardsOfSession(from.id)) {
      shard.transport = { ...shard.transport!, session_id: to.id, connected_at: to.connectedAt };
    }
  }
}

/** A subscription as messages carry it: a WebSocket transport without its connection times, as Twitch sends it. */
function wireForMessage(subscription: WireEventSubSubscription): WireEventSubSubscription {
  const { transport } = subscription;
  const wireTransport =
    transport.method === 'websocket'
      ? { method: 'websocket', session_id: transport.session_id }
      : transport.method === 'conduit'
        ? { method: 'conduit', conduit_id: transport.conduit_id }
        : { method: 'webhook', callback: transport.callback };
  return { ...subscription, condition: { ...subscription.condition }, transport: wireTransport };
}
