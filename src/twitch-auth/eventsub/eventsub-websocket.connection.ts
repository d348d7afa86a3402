import { WebSocket, type RawData } from 'ws';
import type { WireEventSubNotificationBody, WireEventSubRevocationBody } from '../twitch/eventsub-wire.types.js';
import {
  EVENTSUB_WEBSOCKET_CLOSE_CODES,
  type EventSubSocketTransport,
  type EventSubWebSocketConnectionOptions,
} from './eventsub-websocket.types.js';
import {
  EventSubWebSocketClosedError,
  EventSubWebSocketConnectError,
  EventSubWebSocketWelcomeTimeoutError,
} from './eventsub-websocket.errors.js';
import { EventSubMessageFilter } from './eventsub-websocket.message-filter.js';

/** Twitch closes a socket that has no subscription 10 s after its welcome (4003); the welcome itself comes at once. */
const DEFAULT_WELCOME_TIMEOUT_MS = 10_000;
/** Twitch sends a keepalive after exactly the timeout of silence: this much more means the socket is dead. */
const DEFAULT_KEEPALIVE_SLACK_MS = 5_000;
/** After the new welcome, messages already on their way over the old socket still arrive for this long. */
const DEFAULT_RECONNECT_DRAIN_MS = 2_000;

// The connection's public shapes live next door; re-exported so one import serves its users.
export { TWITCH_EVENTSUB_WEBSOCKET_URL, EVENTSUB_WEBSOCKET_CLOSE_CODES, eventSubReconnectDelayMs } from './eventsub-websocket.types.js';
export type {
  EventSubSocketTransport,
  EventSubWebSocketDelivery,
  EventSubWebSocketDeliveryMeta,
  EventSubWebSocketLoss,
  EventSubWebSocketConnectionOptions,
} from './eventsub-websocket.types.js';

/** One WebSocket of a connection: the current one, or the one a reconnect opens. */
interface Leg {
  socket: WebSocket;
  url: string;
  sessionId: string | null;
  /** Keepalive timeout of the session plus slack; 0 until the welcome. */
  silenceLimitMs: number;
  lastMessageAt: number;
  watchdog: NodeJS.Timeout | null;
  welcomed: (sessionId: string) => void;
  failed: (error: Error) => void;
}

/**
 * One EventSub WebSocket session, as Twitch defines it, with no knowledge of
 * users or subscriptions (the per-user transport and conduit shards build on it).
 *
 * - `connect()` opens the socket (asking for `keepaliveTimeoutSeconds`) and
 *   resolves with the session id once `session_welcome` arrives, or rejects
 *   after `welcomeTimeoutMs`. Subscribe with that id within 10 s, or Twitch closes with 4003.
 * - Every `notification` and `revocation` goes to `onMessage`, labelled with
 *   `transport` and the session id; messages older than `maxMessageAgeMs` and
 *   (unless `dropRepeats: false`) ids seen in the last 1024 messages are
 *   dropped (a reconnect may repeat one on both sockets).
 * - Keepalive watchdog: no message at all for the session's keepalive
 *   timeout plus `keepaliveSlackMs` means the socket is dead: it is
 *   terminated and `onLost` called.
 * - `session_reconnect`: a second socket is opened on `reconnect_url`; the
 *   old one keeps delivering until the new welcome, and for a short drain
 *   after it, then is closed. Subscriptions carry over (`onSessionChanged`).
 *   A reconnect that fails counts as a loss.
 * - Any close by the server (codes in `EVENTSUB_WEBSOCKET_CLOSE_CODES`) or
 *   network error after the welcome calls `onLost` once; the owner opens a
 *   new connection after `eventSubReconnectDelayMs(failures)`.
 * - `close()` terminates every socket and clears every timer.
 * Nothing is ever sent to Twitch (inbound traffic is closed with 4001).
 */
export class EventSubWebSocketConnection {
  private readonly transport: EventSubSocketTransport;
  private readonly welcomeTimeoutMs: number;
  private readonly keepaliveSlackMs: number;
  private current: Leg | null = null;
  private reconnecting: Leg | null = null;
  private readonly draining = new Set<{ leg: Leg; timer: NodeJS.Timeout }>();
  private readonly filter: EventSubMessageFilter;
  private closed = false;
  private lost = false;

  constructor(private readonly options: EventSubWebSocketConnectionOptions) {
    this.transport = options.transport ?? 'websocket';
    this.welcomeTimeoutMs = options.welcomeTimeoutMs ?? DEFAULT_WELCOME_TIMEOUT_MS;
    this.keepaliveSlackMs = options.keepaliveSlackMs ?? DEFAULT_KEEPALIVE_SLACK_MS;
    this.filter = new EventSubMessageFilter(options);
  }

  /** The current session id (changes on `session_reconnect`); null before the welcome and after a loss or `close()`. */
  get sessionId(): string | null {
    return this.closed || this.lost ? null : (this.current?.sessionId ?? null);
  }

  /** True between the welcome and a loss or `close()`. */
  get connected(): boolean {
    return this.sessionId !== null;
  }

  /** Opens the socket and resolves with the session id at `session_welcome`. Call once. */
  connect(): Promise<string> {
    if (this.closed) return Promise.reject(new EventSubWebSocketClosedError());
    if (this.current) throw new Error('EventSubWebSocketConnection.connect() may be called once; create a new connection instead.');
    const url = withKeepalive(this.options.url, this.options.keepaliveTimeoutSeconds);
    return new Promise<string>((resolve, reject) => {
      this.current = this.open(url, resolve, reject);
    });
  }

  /** Terminates every socket and clears every timer; nothing is delivered afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const leg of [this.current, this.reconnecting]) if (leg) this.dispose(leg, new EventSubWebSocketClosedError());
    for (const entry of this.draining) {
      clearTimeout(entry.timer);
      this.dispose(entry.leg, null);
    }
    this.draining.clear();
    this.current = null;
    this.reconnecting = null;
  }

  private open(url: string, welcomed: (sessionId: string) => void, failed: (error: Error) => void): Leg {
    const socket = new WebSocket(url, { handshakeTimeout: this.welcomeTimeoutMs, perMessageDeflate: false });
    let settled = false;
    const leg: Leg = {
      socket,
      url,
      sessionId: null,
      silenceLimitMs: 0,
      lastMessageAt: Date.now(),
      watchdog: null,
      welcomed: (sessionId) => {
        if (settled) return;
        settled = true;
        clearTimeout(welcomeTimer);
        welcomed(sessionId);
      },
      failed: (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(welcomeTimer);
        failed(error);
      },
    };
    const welcomeTimer = setTimeout(() => {
      leg.failed(new EventSubWebSocketWelcomeTimeoutError(url, this.welcomeTimeoutMs));
      socket.terminate();
    }, this.welcomeTimeoutMs);
    socket.on('message', (data: RawData) => this.receive(leg, data));
    socket.on('error', (error: Error) => leg.failed(new EventSubWebSocketConnectError(url, error.message)));
    socket.on('close', (code: number, reason: Buffer) => this.closedBy(leg, code, reason.toString()));
    return leg;
  }

  private receive(leg: Leg, data: RawData): void {
    const now = Date.now();
    leg.lastMessageAt = now;
    let message: { metadata?: Record<string, unknown>; payload?: Record<string, unknown> };
    try {
      message = JSON.parse(data.toString()) as typeof message;
    } catch {
      this.options.logger?.warn('Ignored an EventSub WebSocket message that is not JSON.');
      return;
    }
    const metadata = message?.metadata;
    const payload = message?.payload;
    if (!metadata || !payload) return;
    switch (metadata.message_type) {
      case 'notification':
      case 'revocation':
        this.deliver(leg, metadata, payload, now);
        return;
      case 'session_welcome':
        this.welcome(leg, payload.session as { id?: unknown; keepalive_timeout_seconds?: unknown } | undefined);
        return;
      case 'session_reconnect':
        this.startReconnect(leg, (payload.session as { reconnect_url?: unknown } | undefined)?.reconnect_url);
        return;
      default:
        return; // session_keepalive, and types Twitch may add: seeing them is all the watchdog needs.
    }
  }

  private deliver(leg: Leg, metadata: Record<string, unknown>, payload: Record<string, unknown>, now: number): void {
    const messageId = metadata.message_id;
    const timestamp = metadata.message_timestamp;
    if (this.closed || leg.sessionId === null || typeof messageId !== 'string' || typeof timestamp !== 'string') return;
    if (!payload.subscription || typeof payload.subscription !== 'object') return;
    if (metadata.message_type === 'notification' && (!payload.event || typeof payload.event !== 'object')) return;
    const dropRepeats = this.options.dropRepeats !== false;
    if (dropRepeats && this.filter.seen(messageId)) return;
    if (this.options.maxMessageAgeMs !== undefined && this.filter.tooOld(timestamp, now)) {
      this.options.logger?.debug?.(`Dropped EventSub WebSocket message ${messageId}: older than the allowed message age.`);
      return;
    }
    if (dropRepeats) this.filter.remember(messageId);
    const { transport } = this;
    const sessionId = leg.sessionId;
    if (metadata.message_type === 'notification') {
      this.options.onMessage({
        kind: 'notification',
        body: payload as unknown as WireEventSubNotificationBody,
        messageId,
        timestamp,
        transport,
        sessionId,
      });
    } else {
      this.options.onMessage({
        kind: 'revocation',
        body: payload as unknown as WireEventSubRevocationBody,
        messageId,
        timestamp,
        transport,
        sessionId,
      });
    }
  }

  private welcome(leg: Leg, session: { id?: unknown; keepalive_timeout_seconds?: unknown } | undefined): void {
    if (leg.sessionId !== null || typeof session?.id !== 'string') return;
    leg.sessionId = session.id;
    const keepaliveSeconds = typeof session.keepalive_timeout_seconds === 'number' ? session.keepalive_timeout_seconds : 10;
    leg.silenceLimitMs = keepaliveSeconds * 1000 + this.keepaliveSlackMs;
    if (leg === this.reconnecting) this.switchTo(leg);
    this.watch(leg);
    leg.welcomed(session.id);
  }

  /** The reconnect's welcome came: the new socket takes over, the old one drains and closes. */
  private switchTo(leg: Leg): void {
    const previous = this.current!;
    this.reconnecting = null;
    this.current = leg;
    if (previous.watchdog) clearTimeout(previous.watchdog);
    previous.watchdog = null;
    const entry = {
      leg: previous,
      timer: setTimeout(() => {
        this.draining.delete(entry);
        this.dispose(previous, null);
      }, DEFAULT_RECONNECT_DRAIN_MS),
    };
    this.draining.add(entry);
    this.options.onSessionChanged?.(leg.sessionId!, previous.sessionId!);
  }

  private startReconnect(leg: Leg, reconnectUrl: unknown): void {
    if (this.closed || leg !== this.current || this.reconnecting || typeof reconnectUrl !== 'string') return;
    this.reconnecting = this.open(
      reconnectUrl,
      () => undefined,
      (error) => {
        if (this.reconnecting?.url !== reconnectUrl) return;
        this.reconnecting = null;
        this.loseCurrent(null, `the reconnect to Twitch's reconnect_url failed (${error.message})`);
      },
    );
  }

  /** Re-arms the silence check; cheaper than a timer reset per message. */
  private watch(leg: Leg): void {
    const check = () => {
      const silentFor = Date.now() - leg.lastMessageAt;
      if (silentFor < leg.silenceLimitMs) {
        leg.watchdog = setTimeout(check, leg.silenceLimitMs - silentFor);
        return;
      }
      leg.watchdog = null;
      if (leg === this.current) this.loseCurrent(null, `no message for ${Math.round(silentFor / 1000)} s (missed keepalives)`);
    };
    leg.watchdog = setTimeout(check, leg.silenceLimitMs);
  }

  private closedBy(leg: Leg, code: number, reason: string): void {
    const meaning = EVENTSUB_WEBSOCKET_CLOSE_CODES[code];
    const detail = `closed with ${code}${meaning ? ` (${meaning})` : ''}${reason ? `: ${reason.slice(0, 200)}` : ''}`;
    leg.failed(new EventSubWebSocketConnectError(leg.url, detail));
    if (leg.watchdog) clearTimeout(leg.watchdog);
    leg.watchdog = null;
    if (leg === this.reconnecting) {
      this.reconnecting = null;
      if (!this.closed) this.loseCurrent(null, `the reconnect socket ${detail}`);
      return;
    }
    if (leg === this.current && leg.sessionId !== null) this.loseCurrent(code, detail);
  }

  private loseCurrent(code: number | null, reason: string): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    const sessionId = this.current?.sessionId ?? null;
    this.close();
    this.options.onLost?.({ code, reason, sessionId });
  }

  private dispose(leg: Leg, error: Error | null): void {
    if (leg.watchdog) clearTimeout(leg.watchdog);
    leg.watchdog = null;
    if (error) leg.failed(error);
    leg.socket.removeAllListeners('message');
    // A close frame would be a last bit of traffic Twitch ignores anyway; terminate frees the socket at once.
    leg.socket.terminate();
  }
}

function withKeepalive(url: string, seconds: number | undefined): string {
  if (seconds === undefined) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('keepalive_timeout_seconds', String(seconds));
  return parsed.toString();
}
