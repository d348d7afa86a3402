import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FakeTwitchRequest, FakeTwitchResponse, FakeTwitchRoute, RecordedRequest } from './fake-twitch.types.js';
import { FailureQueue, failureResponse, type ScheduledFailure } from './fake-twitch.failures.js';

/** Bodies above this size are refused: FakeTwitch only ever needs small forms. */
const MAX_BODY_BYTES = 1024 * 1024;

/** What the HTTP layer needs from the rest of FakeTwitch. */
export interface FakeTwitchServerSettings {
  port: number;
  latencyMs: number;
  now: () => number;
  failures: FailureQueue;
}

/**
 * The HTTP side of FakeTwitch: a route table keyed by method and path, the
 * request log, failure injection and latency. It knows nothing about tokens;
 * routes do. Every socket is tracked so that `close()` ends keep-alive
 * connections and deliberately hung requests at once.
 */
export class FakeTwitchServer {
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, FakeTwitchRoute>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: Server;
  private closed = false;
  private origin = '';

  constructor(private readonly settings: FakeTwitchServerSettings) {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Connections a test drops on purpose must not surface as unhandled errors.
    this.server.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Origin the server listens on, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return this.origin;
  }

  /** Starts listening on 127.0.0.1. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: this.settings.port, host: '127.0.0.1', backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
  }

  /** Adds a route, replacing any route with the same method and path. */
  addRoute(route: FakeTwitchRoute): void {
    this.routes.set(routeKey(route.method, route.path), route);
  }

  /**
   * Hands HTTP upgrade requests (WebSocket) to `handler`, after recording them
   * in the request log (status 101 once the handler accepted them is up to it;
   * the log shows the attempt). Without a handler, Node refuses upgrades.
   */
  onUpgrade(handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void {
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      this.requests.push({
        method: 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        form: {},
        headers,
        at: this.settings.now(),
      });
      if (this.closed) socket.destroy();
      else handler(req, socket, head);
    });
  }

  /** Stops listening and destroys every open socket, hung requests included. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await closing;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const rawBody = await readBody(req);
      if (rawBody === null) return this.send(res, undefined, twitchErrorResponse(413, 'Request Entity Too Large'));
      const request = parseRequest(req, url, rawBody);
      const record: RecordedRequest = {
        method: request.method,
        path: request.path,
        query: request.query,
        form: request.form,
        headers: request.headers,
        at: this.settings.now(),
      };
      if (request.params.grant_type !== undefined) record.grantType = request.params.grant_type;
      this.requests.push(record);

      const route = this.routes.get(routeKey(request.method, request.path));
      if (!route) return this.answer(res, record, twitchErrorResponse(404, 'Not Found'));
      const failure = this.settings.failures.take(route.endpoint, record.grantType);
      if (failure && !failure.afterHandling) return this.fail(req, res, record, failure);
      const response = await route.handle(request);
      if (failure) return this.fail(req, res, record, failure);
      return this.answer(res, record, response);
    } catch {
      // A broken handler answers 500 like a real server would, and says nothing (FakeTwitch never logs).
      if (!res.headersSent && !res.destroyed) this.send(res, undefined, twitchErrorResponse(500, 'Internal Server Error'));
    }
  }

  private async fail(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, { failure }: ScheduledFailure): Promise<void> {
    if (failure === 'timeout') return;
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    return this.answer(res, record, failureResponse(failure, this.settings.now()));
  }

  private async answer(res: ServerResponse, record: RecordedRequest, response: FakeTwitchResponse): Promise<void> {
    if (this.settings.latencyMs > 0) await this.sleep(this.settings.latencyMs);
    if (this.closed) return;
    this.send(res, record, response);
  }

  private send(res: ServerResponse, record: RecordedRequest | undefined, response: FakeTwitchResponse): void {
    if (res.destroyed) return;
    const headers: Record<string, string> = { ...response.headers };
    let payload: string | undefined;
    if (typeof response.body === 'string') {
      payload = response.body;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else if (response.body !== undefined) {
      payload = JSON.stringify(response.body);
      headers['content-type'] ??= 'application/json';
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    else headers['content-length'] = '0';
    res.writeHead(response.status, headers);
    res.end(payload);
    if (record) record.status = response.status;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** A Twitch-style error answer: `{"status":N,"message":"..."}`. */
export function twitchErrorResponse(status: number, message: string): FakeTwitchResponse {
  return { status, body: { status, message } };
}

function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseRequest(req: IncomingMessage, url: URL, rawBody: Buffer): FakeTwitchRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const query = Object.fromEntries(url.searchParams);
  const contentType = (headers['content-type'] ?? '').toLowerCase();
  let form: Record<string, string> = {};
  let json: unknown = undefined;
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    form = Object.fromEntries(new URLSearchParams(rawBody.toString('utf8')));
  } else if (contentType.startsWith('application/json') && rawBody.length > 0) {
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      json = undefined;
    }
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query,
    searchParams: url.searchParams,
    form,
    params: { ...query, ...form },
    headers,
    rawBody,
    json,
  };
}
