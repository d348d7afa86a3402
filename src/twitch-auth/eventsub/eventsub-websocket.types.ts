/** Public shapes of `EventSubWebSocketConnection`: its options, what it delivers and reports, Twitch's close codes, the reconnect backoff. */
import type { WireEventSubNotificationBody, WireEventSubRevocationBody } from '../twitch/eventsub-wire.types.js';

/** Twitch's EventSub WebSocket endpoint. */
export const TWITCH_EVENTSUB_WEBSOCKET_URL = 'wss://eventsub.wss.twitch.tv/ws';

/** How the socket a message came over is labelled on the events (`EventSubNotification.transport`). */
export type EventSubSocketTransport = 'websocket' | 'conduit';

/** One `notification` or `revocation` message, handed to `onMessage`. */
export type EventSubWebSocketDelivery =
  | ({ kind: 'notification'; body: WireEventSubNotificationBody } & EventSubWebSocketDeliveryMeta)
  | ({ kind: 'revocation'; body: WireEventSubRevocationBody } & EventSubWebSocketDeliveryMeta);

/** What every delivery carries besides its body. */
export interface EventSubWebSocketDeliveryMeta {
  /** `metadata.message_id`: stable across Twitch's repeats. */
  messageId: string;
  /** `metadata.message_timestamp` as sent. */
  timestamp: string;
  /** The `transport` label given to the connection. */
  transport: EventSubSocketTransport;
  /** The session the message came over. */
  sessionId: string;
}

/** Why a connection stopped by itself; the owner opens a new one (new session) and subscribes again. */
export interface EventSubWebSocketLoss {
  /** The WebSocket close code, or null when the connection was given up locally (silence, failed reconnect). */
  code: number | null;
  /** What happened, for logs. */
  reason: string;
  /** The session that was lost (null when it never had a welcome). */
  sessionId: string | null;
}

/** Options of one `EventSubWebSocketConnection`. */
export interface EventSubWebSocketConnectionOptions {
  /** Endpoint, e.g. `wss://eventsub.wss.twitch.tv/ws` (see `TWITCH_EVENTSUB_WEBSOCKET_URL`). */
  url: string;
  /** Asked of Twitch as `?keepalive_timeout_seconds=` (10–600); absent: Twitch's default (10). */
  keepaliveTimeoutSeconds?: number;
  /** Label of every delivery. Default `'websocket'`. */
  transport?: EventSubSocketTransport;
  /**
   * Drop a message whose id was among the last 1024 delivered (a reconnect
   * may send one on both sockets). Default true; an owner that de-duplicates
   * every message itself (e.g. through a `ClaimStore`) may turn it off.
   */
  dropRepeats?: boolean;
  /** Messages whose `message_timestamp` is older than this are dropped (replays). Default: none dropped. */
  maxMessageAgeMs?: number;
  /** How long `connect()` and a reconnect wait for `session_welcome`. Default 10000. */
  welcomeTimeoutMs?: number;
  /** Silence tolerated beyond the session's keepalive timeout before the socket counts as dead. Default 5000. */
  keepaliveSlackMs?: number;
  /** Every notification and revocation, once; must not throw. */
  onMessage(delivery: EventSubWebSocketDelivery): void;
  /** The connection stopped by itself after its welcome (not called for `close()`). */
  onLost?(loss: EventSubWebSocketLoss): void;
  /** A `session_reconnect` completed: same subscriptions, new session id. */
  onSessionChanged?(sessionId: string, previousSessionId: string): void;
  /** Where warnings go (e.g. a Nest `Logger`). */
  logger?: { warn(message: string): void; debug?(message: string): void };
}

/** Meaning of Twitch's close codes, for logs. */
export const EVENTSUB_WEBSOCKET_CLOSE_CODES: Readonly<Record<number, string>> = {
  4000: 'Twitch had an internal server error',
  4001: 'the client sent inbound traffic',
  4002: 'the client failed ping-pong',
  4003: 'the connection was unused (no subscription within 10 s of the welcome)',
  4004: 'the reconnect grace time expired',
  4005: 'network timeout',
  4006: 'network error',
  4007: 'invalid reconnect URL',
};

/**
 * Delay before the `failures`-th consecutive attempt to open a socket: 1 s,
 * doubling to at most 60 s, with ±50 % jitter so that many users' sockets do
 * not come back at the same instant after an outage.
 */
export function eventSubReconnectDelayMs(failures: number): number {
  const base = Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.5 + Math.random()));
}
