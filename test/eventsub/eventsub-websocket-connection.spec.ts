import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  EventSubWebSocketConnection,
  type EventSubWebSocketDelivery,
  type EventSubWebSocketLoss,
} from '../../src/twitch-auth/eventsub/eventsub-websocket.connection.js';

/** A hand-driven EventSub WebSocket server: each test decides what it sends. */
class TinyEventSubServer {
  readonly server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  readonly sockets: WebSocket[] = [];
  readonly urls: string[] = [];
  private sessions = 0;
  /** Keepalive timeout the welcome announces. */
  keepaliveSeconds = 10;
  /** Set false to open sockets without a welcome. */
  welcome = true;

  constructor() {
    this.server.on('connection', (socket, request) => {
      this.sockets.push(socket);
      this.urls.push(request.url ?? '');
      if (this.welcome) this.send(socket, 'session_welcome', { session: this.session() });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
  }

  session(): Record<string, unknown> {
    return { id: `session-${++this.sessions}`, status: 'connected', keepalive_timeout_seconds: this.keepaliveSeconds, reconnect_url: null };
  }

  send(socket: WebSocket, type: string, payload: Record<string, unknown>, id = `${type}-${Math.random()}`, at = new Date()): void {
    socket.send(JSON.stringify({ metadata: { message_id: id, message_type: type, message_timestamp: at.toISOString() }, payload }));
  }

  notify(socket: WebSocket, id: string, at?: Date): void {
    const subscription = { id: 'sub-1', status: 'enabled', type: 'channel.follow', version: '2', condition: {}, transport: {} };
    this.send(socket, 'notification', { subscription, event: { user_id: '1' } }, id, at);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error('condition not met in time'));
      setTimeout(check, 10);
    };
    check();
  });
}

describe('EventSubWebSocketConnection', () => {
  let server: TinyEventSubServer;
  let connection: EventSubWebSocketConnection | null = null;
  const deliveries: EventSubWebSocketDelivery[] = [];
  const losses: EventSubWebSocketLoss[] = [];

  function connect(extra: { keepaliveSlackMs?: number; maxMessageAgeMs?: number; welcomeTimeoutMs?: number } = {}) {
    connection = new EventSubWebSocketConnection({
      url: server.url,
      keepaliveTimeoutSeconds: 30,
      onMessage: (delivery) => deliveries.push(delivery),
      onLost: (loss) => losses.push(loss),
      ...extra,
    });
    return connection.connect();
  }

  beforeEach(async () => {
    server = new TinyEventSubServer();
    await new Promise((resolve) => server.server.once('listening', resolve));
    deliveries.length = 0;
    losses.length = 0;
  });

  afterEach(async () => {
    connection?.close();
    connection = null;
    await server.close();
  });

  it('resolves with the welcome session id, asks for the keepalive timeout, and delivers notifications once', async () => {
    const sessionId = await connect();
    expect(sessionId).toBe('session-1');
    expect(server.urls[0]).toBe('/ws?keepalive_timeout_seconds=30');
    const socket = server.sockets[0];
    server.notify(socket, 'm1');
    server.notify(socket, 'm1');
    server.notify(socket, 'm2');
    server.notify(socket, 'old', new Date(Date.now() - 11 * 60_000));
    server.notify(socket, 'm3');
    await until(() => deliveries.length >= 4);
    expect(deliveries.map((d) => d.messageId)).toEqual(['m1', 'm2', 'old', 'm3']);
  });

  it('drops messages older than maxMessageAgeMs', async () => {
    await connect({ maxMessageAgeMs: 600_000 });
    server.notify(server.sockets[0], 'old', new Date(Date.now() - 11 * 60_000));
    server.notify(server.sockets[0], 'fresh');
    await until(() => deliveries.length >= 1);
    expect(deliveries.map((d) => d.messageId)).toEqual(['fresh']);
    expect(deliveries[0]).toMatchObject({ kind: 'notification', transport: 'websocket', sessionId: 'session-1' });
  });

  it('follows session_reconnect: the old socket delivers until the new welcome, nothing twice, no loss', async () => {
    const changes: string[] = [];
    connection = new EventSubWebSocketConnection({
      url: server.url,
      onMessage: (delivery) => deliveries.push(delivery),
      onLost: (loss) => losses.push(loss),
      onSessionChanged: (now, before) => changes.push(`${before}->${now}`),
    });
    await connection.connect();
    const old = server.sockets[0];
    server.welcome = false;
    server.send(old, 'session_reconnect', {
      session: { id: 'session-1', status: 'reconnecting', reconnect_url: `${server.url}?reconnect_id=x` },
    });
    await until(() => server.sockets.length === 2);
    const next = server.sockets[1];
    server.notify(old, 'before-welcome');
    server.notify(old, 'both');
    await until(() => deliveries.length === 2);
    server.send(next, 'session_welcome', { session: server.session() });
    server.notify(next, 'both');
    server.notify(next, 'after');
    await until(() => deliveries.length === 3);
    expect(connection.sessionId).toBe('session-2');
    expect(changes).toEqual(['session-1->session-2']);
    expect(deliveries.map((d) => d.messageId)).toEqual(['before-welcome', 'both', 'after']);
    expect(server.urls[1]).toBe('/ws?reconnect_id=x');
    await until(() => old.readyState === old.CLOSED);
    expect(losses).toEqual([]);
  });

  it('counts a silent socket as lost', async () => {
    server.keepaliveSeconds = 1;
    await connect({ keepaliveSlackMs: 200 });
    await until(() => losses.length === 1);
    expect(losses[0]).toMatchObject({ code: null, sessionId: 'session-1' });
    expect(losses[0].reason).toMatch(/missed keepalives/);
    expect(connection!.connected).toBe(false);
  });

  it('reports a close code from Twitch with its meaning', async () => {
    await connect();
    server.sockets[0].close(4003, 'unused');
    await until(() => losses.length === 1);
    expect(losses[0].code).toBe(4003);
    expect(losses[0].reason).toMatch(/no subscription within 10 s/);
  });

  it('rejects connect() when no welcome comes in time', async () => {
    server.welcome = false;
    await expect(connect({ welcomeTimeoutMs: 300 })).rejects.toThrow(/sent no session_welcome within 300 ms/);
  });
});
