import type { WireEventSubSubscription } from '../twitch/eventsub-wire.types.js';
import type { FakeEventSubHub } from './fake-twitch.eventsub-hub.js';
import { conduitInfo } from './fake-twitch.conduits.js';
import type {
  FakeConduitInfo,
  FakeEventSubDelivery,
  FakeEventSubPublishOptions,
  FakeEventSubPublishResult,
  FakeEventSubSessionInfo,
} from './fake-twitch.eventsub.types.js';

/**
 * FakeTwitch's EventSub side, as a test drives it: publishing events,
 * revoking subscriptions, disturbing WebSocket sessions, and listing what
 * was subscribed and delivered. `FakeTwitch` inherits these members.
 */
export abstract class FakeTwitchEventSubControls {
  /** @internal */
  protected constructor(private readonly hub: FakeEventSubHub) {}

  /**
   * Publishes one EventSub event: a `notification` to every enabled
   * subscription of `type` (and `version`, when given) whose condition has
   * every value of `options.condition`, over its own transport (its socket,
   * its webhook, signed, or its conduit's next enabled shard). Resolves once
   * webhooks answered; socket messages are sent in call order.
   */
  publishEventSub(
    type: string,
    version: string | undefined,
    event: Record<string, unknown>,
    options?: FakeEventSubPublishOptions,
  ): Promise<FakeEventSubPublishResult> {
    return this.hub.publish(type, version, event, options);
  }

  /**
   * Sends `session_reconnect` to a session and returns its reconnect URL. The
   * new socket's session (new id) takes over the subscriptions, then the old
   * socket is closed; unless replaced within `eventSubReconnectGraceMs`, the old one is closed with 4004.
   */
  reconnectEventSubSession(sessionId: string): string {
    return this.hub.sockets.reconnect(sessionId);
  }

  /**
   * Revokes a subscription: sets `status` (e.g. `authorization_revoked`) and
   * sends a `revocation` over its transport. Resolves to the delivery, `null`
   * when nothing could be delivered; throws when the id is unknown.
   */
  async revokeEventSubSubscription(subscriptionId: string, status = 'authorization_revoked'): Promise<FakeEventSubDelivery | null> {
    const delivery = await this.hub.revoke(subscriptionId, status);
    if (delivery === false) throw new Error(`FakeTwitch: no EventSub subscription ${subscriptionId}`);
    return delivery;
  }

  /** Closes a session's socket with `code` (default 4006, network error; 4000 and 4005 too), as a failure on Twitch's side would. */
  dropEventSubSocket(sessionId: string, code = 4006): void {
    this.hub.sockets.drop(sessionId, code);
  }

  /** Stops (or, with `false`, resumes) keepalives on a session, so a client's silence watchdog fires. */
  pauseKeepalives(sessionId: string, paused = true): void {
    const session = this.hub.sockets.get(sessionId);
    if (!session) throw new Error(`FakeTwitch: no EventSub session ${sessionId}`);
    session.keepalivesPaused = paused;
  }

  /** Every EventSub WebSocket session since start, oldest first (closed ones too, until `reset()`). */
  eventSubSessions(): FakeEventSubSessionInfo[] {
    return this.hub.sockets.list().map((session) => session.info());
  }

  /** Every EventSub subscription (all transports), oldest first, in Twitch's shape. */
  eventSubSubscriptions(): WireEventSubSubscription[] {
    return this.hub.state.subscriptions.list();
  }

  /** Every conduit and its shards, oldest first. */
  conduits(): FakeConduitInfo[] {
    return this.hub.state.conduits.list().map(conduitInfo);
  }

  /** Every EventSub message delivered since the last reset (notifications and revocations, all transports), in delivery order. */
  eventSubDeliveries(): FakeEventSubDelivery[] {
    return this.hub.state.deliveries.map((delivery) => ({ ...delivery }));
  }
}
