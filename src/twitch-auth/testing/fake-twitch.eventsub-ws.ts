import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeEventSubSession } from './fake-twitch.eventsub-session.js';

/** Path of the EventSub WebSocket endpoint, as on `wss://eventsub.wss.twitch.tv/ws`. */
export const EVENTSUB_WS_PATH = '/ws';

/** Twitch's close codes. */
export const EventSubCloseCode = {
  internalError: 4000,
  inboundTraffic: 4001,
  pingPongFailed: 4002,
  connectionUnused: 4003,
  reconnectGraceExpired: 4004,
  networkTimeout: 4005,
  networkError: 4006,
  invalidReconnect: 4007,
} as const;

const MAX_KEEPALIVE_SECONDS = 600;

/** What the socket server needs from FakeTwitch. */
export interface FakeEventSubSocketSettings {
  welcomeTimeoutMs: number;
  reconnectGraceMs: number;
  minKeepaliveSeconds: number;
  /** FakeTwitch's origin (`http://127.0.0.1:PORT`), for reconnect URLs. */
  origin(): string;
  /** A session's socket is gone for good (not handed over by a reconnect). */
  onSessionClosed(session: FakeEventSubSession, code: number): void;
  /** A reconnect's new session took over the old one's subscriptions. */
  onSessionReplaced(from: FakeEventSubSession, to: FakeEventSubSession): void;
}

interface PendingReconnect {
  session: FakeEventSubSession;
  timer: NodeJS.Timeout;
}

/**
 * FakeTwitch's EventSub WebSocket endpoint (`/ws` on its own HTTP server):
 * welcome, keepalives, `session_reconnect` with a single-use reconnect URL,
 * and Twitch's close codes (4001 inbound traffic, 4003 unused, 4004 grace
 * expired, 4007 invalid reconnect). Subscriptions are not its business: it
 * tells its owner when a session ends or is replaced.
 */
export class FakeEventSubSocketServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, FakeEventSubSession>();
  private readonly reconnects = new Map<string, PendingReconnect>();
  private readonly welcomeTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly settings: FakeEventSubSocketSettings) {}

  /** Accepts or refuses an HTTP upgrade aimed at FakeTwitch. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (this.closed || url.pathname !== EVENTSUB_WS_PATH) return refuse(socket, 404, 'Not Found');
    const reconnectId = url.searchParams.get('reconnect_id');
    if (reconnectId !== null) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.acceptReconnect(ws, reconnectId));
      return;
    }
    const asked = url.searchParams.get('keepalive_timeout_seconds');
    const keepalive = asked === null ? 10 : Number(asked);
    if (
      asked !== null &&
      !(Number.isFinite(keepalive) && keepalive >= this.settings.minKeepaliveSeconds && keepalive <= MAX_KEEPALIVE_SECONDS)
    ) {
      return refuse(
        socket,
        400,
        `keepalive_timeout_seconds must be between ${this.settings.minKeepaliveSeconds} and ${MAX_KEEPALIVE_SECONDS}`,
      );
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, Math.max(keepalive, this.settings.minKeepaliveSeconds), null));
  }

  /** The session with this id (open or closed), if any. */
  get(sessionId: string): FakeEventSubSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** Every session seen since start (or the last `forget`), oldest first. */
  list(): FakeEventSubSession[] {
    return [...this.sessions.values()];
  }

  /**
   * Sends `session_reconnect` to an open session and returns the reconnect URL.
   * The old socket is closed once the new one is welcomed, or with 4004 after
   * the grace time.
   */
  reconnect(sessionId: string): string {
    const session = this.sessions.get(sessionId);
    if (!session || session.status !== 'connected') throw new Error(`FakeTwitch: no connected EventSub session ${sessionId}`);
    const reconnectId = randomBytes(12).toString('base64url');
    const timer = setTimeout(() => {
      this.reconnects.delete(reconnectId);
      session.awaitingReconnect = false;
      // A client that already closed the old socket kept its subscriptions for the grace; they end now.
      if (session.status === 'closed') this.settings.onSessionClosed(session, EventSubCloseCode.reconnectGraceExpired);
      else this.end(session, EventSubCloseCode.reconnectGraceExpired);
    }, this.settings.reconnectGraceMs);
    this.reconnects.set(reconnectId, { session, timer });
    const url = `${this.settings.origin().replace(/^http/, 'ws')}${EVENTSUB_WS_PATH}?reconnect_id=${reconnectId}`;
    session.announceReconnect(url);
    return url;
  }

  /** Closes an open session's socket with `code` (e.g. 4000, 4005, 4006), as a network failure would. */
  drop(sessionId: string, code: number): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.status === 'closed') throw new Error(`FakeTwitch: no open EventSub session ${sessionId}`);
    this.end(session, code);
  }

  /** Forgets closed sessions (after `FakeTwitch.reset()`); open sockets stay. */
  forgetClosed(): void {
    for (const [id, session] of this.sessions) if (session.status === 'closed') this.sessions.delete(id);
  }

  /** Ends every socket and timer; later upgrades are refused. */
  close(): Promise<void> {
    this.closed = true;
    for (const timer of this.welcomeTimers) clearTimeout(timer);
    this.welcomeTimers.clear();
    for (const { timer } of this.reconnects.values()) clearTimeout(timer);
    this.reconnects.clear();
    for (const session of this.sessions.values()) session.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private acceptReconnect(ws: WebSocket, reconnectId: string): void {
    const pending = this.reconnects.get(reconnectId);
    if (!pending) {
      ws.on('error', () => undefined);
      ws.close(EventSubCloseCode.invalidReconnect, 'invalid reconnect');
      return;
    }
    this.reconnects.delete(reconnectId);
    clearTimeout(pending.timer);
    pending.session.awaitingReconnect = false;
    this.open(ws, pending.session.keepaliveSeconds, pending.session);
  }

  private open(ws: WebSocket, keepaliveSeconds: number, previous: FakeEventSubSession | null): void {
    const session = new FakeEventSubSession(ws, keepaliveSeconds);
    this.sessions.set(session.id, session);
    ws.on('error', () => undefined);
    ws.on('message', () => this.end(session, EventSubCloseCode.inboundTraffic));
    ws.on('close', (code) => this.onClose(session, code));
    session.welcome();
    if (previous) {
      session.reconnectedFrom = previous.id;
      session.used = previous.used;
      session.userId = previous.userId;
      this.settings.onSessionReplaced(previous, session);
      previous.handedOver = true;
      this.end(previous, 1000);
      return;
    }
    const timer = setTimeout(() => {
      this.welcomeTimers.delete(timer);
      if (!session.used && session.status !== 'closed') this.end(session, EventSubCloseCode.connectionUnused);
    }, this.settings.welcomeTimeoutMs);
    this.welcomeTimers.add(timer);
  }

  /** FakeTwitch closes a socket: the session ends now (subscriptions and shards disabled), not when the close handshake completes. */
  private end(session: FakeEventSubSession, code: number): void {
    session.close(code);
    this.onClose(session, code);
  }

  private onClose(session: FakeEventSubSession, code: number): void {
    if (session.status === 'closed') return;
    session.stopTimers();
    if (session.closeCode === null) session.closeCode = code;
    session.status = 'closed';
    // A replaced session's subscriptions already live on; one awaiting its reconnect keeps them until the grace ends.
    if (!session.handedOver && !session.awaitingReconnect) this.settings.onSessionClosed(session, session.closeCode);
  }
}

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ status, message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Not Found'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
