import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { WireEventSubWsMessage, WireEventSubWsSession } from '../twitch/eventsub-wire.types.js';
import { formatEventSubTimestamp } from './eventsub-sender.js';
import type { FakeEventSubSessionInfo, FakeEventSubSessionStatus } from './fake-twitch.eventsub.types.js';

/** Per-message choices of whoever sends a message over a session. */
export interface FakeEventSubMessageOptions {
  /** Default: a fresh UUID. */
  messageId?: string;
  /** Default: now, with nine fractional digits as Twitch writes them. */
  timestamp?: string | Date;
}

/**
 * One EventSub WebSocket session on FakeTwitch: its socket, the keepalive
 * clock and what it sent. Messages go out in call order (the socket's own
 * send queue keeps them so); a keepalive goes out only after
 * `keepaliveSeconds` without any other message, as on Twitch.
 */
export class FakeEventSubSession {
  /** Twitch-looking session id (`<8 hex>_<8 hex>`). */
  readonly id = `${randomBytes(4).toString('hex')}_${randomBytes(4).toString('hex')}`;
  /** RFC 3339 time the socket connected. */
  readonly connectedAt = formatEventSubTimestamp(new Date());
  status: FakeEventSubSessionStatus = 'connected';
  /** True once a subscription or conduit shard used it (no 4003 then). */
  used = false;
  /** User whose token created this session's subscriptions; a socket serves one user. */
  userId: string | null = null;
  closeCode: number | null = null;
  keepalivesPaused = false;
  messagesSent = 0;
  keepalivesSent = 0;
  /** Told to reconnect and not yet replaced: its subscriptions outlive its socket until the grace ends. */
  awaitingReconnect = false;
  /** Replaced by a reconnect: its subscriptions moved to the new session. */
  handedOver = false;
  /** Session id this one took over through `session_reconnect`. */
  reconnectedFrom: string | null = null;
  private lastSentAt = Date.now();
  private keepaliveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: WebSocket,
    readonly keepaliveSeconds: number,
  ) {}

  /** Sends `session_welcome` and starts the keepalive clock. */
  welcome(): void {
    this.send('session_welcome', { session: this.describe('connected', null) });
    this.scheduleKeepalive(this.keepaliveSeconds * 1000);
  }

  /** Sends `session_reconnect` pointing at `reconnectUrl`. */
  announceReconnect(reconnectUrl: string): void {
    this.status = 'reconnecting';
    this.awaitingReconnect = true;
    this.send('session_reconnect', { session: { ...this.describe('reconnecting', reconnectUrl), keepalive_timeout_seconds: null } });
  }

  /**
   * Sends one message; returns its id, or `null` when the socket is no longer
   * open (Twitch drops what it cannot deliver).
   */
  send(
    messageType: string,
    payload: WireEventSubWsMessage['payload'],
    options: FakeEventSubMessageOptions & { subscriptionType?: string; subscriptionVersion?: string } = {},
  ): string | null {
    if (this.socket.readyState !== WebSocket.OPEN) return null;
    const messageId = options.messageId ?? randomUUID();
    const timestamp = typeof options.timestamp === 'string' ? options.timestamp : formatEventSubTimestamp(options.timestamp ?? new Date());
    const message: WireEventSubWsMessage = {
      metadata: {
        message_id: messageId,
        message_type: messageType,
        message_timestamp: timestamp,
        ...(options.subscriptionType === undefined ? {} : { subscription_type: options.subscriptionType }),
        ...(options.subscriptionVersion === undefined ? {} : { subscription_version: options.subscriptionVersion }),
      },
      payload,
    };
    this.socket.send(JSON.stringify(message));
    this.lastSentAt = Date.now();
    if (messageType === 'session_keepalive') this.keepalivesSent++;
    else this.messagesSent++;
    return messageId;
  }

  /** Closes the socket with `code` (Twitch's 4000–4007, or 1000). */
  close(code: number, reason = ''): void {
    this.stopTimers();
    this.closeCode ??= code;
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(code, reason);
  }

  /** Ends the socket at once, without a close frame (server shutdown). */
  terminate(): void {
    this.stopTimers();
    this.socket.terminate();
  }

  /** Clears the keepalive clock (the socket closed). */
  stopTimers(): void {
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  /** A copy of what tests may assert on. */
  info(): FakeEventSubSessionInfo {
    return {
      sessionId: this.id,
      status: this.status,
      keepaliveTimeoutSeconds: this.keepaliveSeconds,
      connectedAt: this.connectedAt,
      closeCode: this.closeCode,
      reconnectedFrom: this.reconnectedFrom,
      userId: this.userId,
      messagesSent: this.messagesSent,
      keepalivesSent: this.keepalivesSent,
      keepalivesPaused: this.keepalivesPaused,
    };
  }

  private describe(status: string, reconnectUrl: string | null): WireEventSubWsSession {
    return {
      id: this.id,
      status,
      keepalive_timeout_seconds: this.keepaliveSeconds,
      reconnect_url: reconnectUrl,
      connected_at: this.connectedAt,
    };
  }

  /** One timer per session, re-armed for the remaining silence instead of being reset on every message (publishing stays cheap). */
  private scheduleKeepalive(delayMs: number): void {
    this.keepaliveTimer = setTimeout(() => {
      const intervalMs = this.keepaliveSeconds * 1000;
      const silentMs = Date.now() - this.lastSentAt;
      if (silentMs < intervalMs) return this.scheduleKeepalive(intervalMs - silentMs);
      if (this.keepalivesPaused) this.lastSentAt = Date.now();
      else this.send('session_keepalive', {});
      this.scheduleKeepalive(intervalMs);
    }, delayMs);
  }
}
