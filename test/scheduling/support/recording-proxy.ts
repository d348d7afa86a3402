import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One refresh-token grant as it passed through the proxy, answered by Twitch. */
export interface RefreshExchange {
  /** The refresh token the client presented: it names the token generation being replaced. */
  presented: string;
  /** The refresh token Twitch issued in exchange (null when the grant failed). */
  issued: string | null;
  /** The access token issued with it (null when the grant failed). */
  issuedAccessToken: string | null;
  status: number;
  /** When the request reached the proxy (epoch ms). */
  at: number;
}

/**
 * What the proxy does with one refresh grant (see `planRefreshes`):
 * - `forward`: pass it on and deliver the answer (after `answerDelayMs`);
 * - `holdAnswer`: pass it on at once, so Twitch rotates the refresh token, but
 *   keep the answer from the client until `releaseAnswers()`;
 * - `swallow`: never pass it on nor answer it, so the client times out and
 *   Twitch never sees the attempt.
 */
export type RefreshPlan = 'forward' | 'holdAnswer' | 'swallow';

/** One refresh grant as it reached the proxy, whatever became of it. */
export interface RefreshAttempt {
  /** When it reached the proxy (epoch ms). */
  at: number;
  plan: RefreshPlan;
}

/**
 * A failure the proxy injects into a token-endpoint call before Twitch sees
 * it: a 500 answer, no answer at all (the client times out), or a reset
 * connection.
 */
export type InjectedFailure = '500' | 'timeout' | 'reset';

/** The random failure mode: a share of token-endpoint calls fails, drawn from a seeded generator. */
interface FailureMode {
  rate: number;
  random: () => number;
}

interface Parked {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  clientGone: boolean;
}

/**
 * An HTTP proxy in front of FakeTwitch's identity server that records every
 * refresh grant with the token it issued, so a test can follow each user's
 * chain of refresh tokens across processes. It can hold requests (park them
 * unforwarded) so a test can kill a process at a moment when no answer from
 * Twitch is on its way to it; and it can slow the token endpoint, or keep a
 * refresh answer Twitch already gave from its client, so a test can stop or
 * race processes at the moment a refresh is in flight.
 */
export class RecordingProxy {
  readonly exchanges: RefreshExchange[] = [];
  /** Requests forwarded and not yet answered to their client. */
  inFlight = 0;
  /** Parked requests dropped because their client died before they were forwarded. */
  dropped = 0;
  /** Every refresh grant that reached the proxy, in order, swallowed ones included. */
  readonly refreshAttempts: RefreshAttempt[] = [];
  /** How long every refresh grant's answer is kept from its client after Twitch gave it (a slow token endpoint). */
  answerDelayMs = 0;
  /** Failures injected by `failTokenCalls`, by kind. */
  readonly injected: Record<InjectedFailure, number> = { '500': 0, timeout: 0, reset: 0 };
  private failures: FailureMode | null = null;
  private parked: Parked[] | null = null;
  private readonly plans: RefreshPlan[] = [];
  private readonly heldAnswers: (() => void)[] = [];
  private readonly arrivals = new WeakMap<IncomingMessage, number>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  /** Starts a proxy on a free loopback port forwarding to `target` (an origin such as FakeTwitch's `idBaseUrl`). */
  static async start(target: string): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server, new URL(target));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.receive(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Parks every request from now on until `release()`. */
  hold(): void {
    this.parked ??= [];
  }

  /** Forwards the parked requests whose clients are still there; drops the others unseen by Twitch. */
  release(): void {
    const parked = this.parked ?? [];
    this.parked = null;
    for (const entry of parked) {
      if (entry.clientGone || entry.res.destroyed) this.dropped += 1;
      else this.forward(entry.req, entry.res, entry.body);
    }
  }

  /** The next refresh grants are treated as `plans` say, in order of arrival; later ones are forwarded. */
  planRefreshes(...plans: RefreshPlan[]): void {
    this.plans.push(...plans);
  }

  /**
   * From now on, fails a `rate` share of token-endpoint calls before they
   * reach Twitch, as 500s, timeouts and resets in equal parts. The draws come
   * from a generator seeded with `seed`, so a run is repeatable up to the
   * order in which requests arrive.
   */
  failTokenCalls(rate: number, seed: number): void {
    this.failures = { rate, random: seededRandom(seed) };
  }

  /** Ends `failTokenCalls`: every call is handled as before. */
  stopFailing(): void {
    this.failures = null;
  }

  /** Answers of `holdAnswer` grants that Twitch gave and the client has not received yet. */
  get answersHeld(): number {
    return this.heldAnswers.length;
  }

  /** Delivers every held answer (to clients still connected). */
  releaseAnswers(): void {
    for (const deliver of this.heldAnswers.splice(0)) deliver();
  }

  /** Stops listening and closes idle upstream connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.arrivals.set(req, Date.now());
      if (this.injectFailure(req, res)) return;
      const plan = isRefreshGrant(req, body) ? this.planFor() : null;
      if (plan === 'swallow') return;
      if (plan === 'holdAnswer') {
        this.forward(req, res, body, (deliver) => this.heldAnswers.push(deliver));
        return;
      }
      if (this.parked) {
        const entry: Parked = { req, res, body, clientGone: false };
        res.on('close', () => (entry.clientGone = !res.writableFinished));
        this.parked.push(entry);
        return;
      }
      this.forward(req, res, body);
    });
  }

  /** Under `failTokenCalls`, maybe fails this token-endpoint call; true when it did. */
  private injectFailure(req: IncomingMessage, res: ServerResponse): boolean {
    const mode = this.failures;
    if (!mode || !(req.url?.startsWith('/oauth2/token') ?? false) || mode.random() >= mode.rate) return false;
    const kind = (['500', 'timeout', 'reset'] as const)[Math.floor(mode.random() * 3)]!;
    this.injected[kind] += 1;
    if (kind === '500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 500, message: 'Internal Server Error' }));
    } else if (kind === 'reset') {
      req.socket.resetAndDestroy();
    }
    // A timeout: never answered; the client gives up after its own timeout (close() ends the socket).
    return true;
  }

  private planFor(): RefreshPlan {
    const plan = this.plans.shift() ?? 'forward';
    this.refreshAttempts.push({ at: Date.now(), plan });
    return plan;
  }

  /** Passes the request on; `hold` (or `answerDelayMs` for a refresh grant) decides when the answer goes back. */
  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, hold?: (deliver: () => void) => void): void {
    this.inFlight += 1;
    const arrivedAt = this.arrivals.get(req) ?? Date.now();
    const upstream = httpRequest(
      new URL(req.url ?? '/', this.target),
      { method: req.method, headers: { ...req.headers, host: this.target.host }, agent: this.agent },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const payload = Buffer.concat(chunks);
          this.record(req, body, answer.statusCode ?? 0, payload, arrivedAt);
          const deliver = (): void => {
            if (!res.destroyed) {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(payload);
            }
            this.inFlight -= 1;
          };
          if (hold) hold(deliver);
          else if (this.answerDelayMs > 0 && isRefreshGrant(req, body)) setTimeout(deliver, this.answerDelayMs);
          else deliver();
        });
      },
    );
    upstream.on('error', () => {
      this.inFlight -= 1;
      if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
    });
    upstream.end(body);
  }

  private record(req: IncomingMessage, body: Buffer, status: number, payload: Buffer, at: number): void {
    if (!isRefreshGrant(req, body)) return;
    const form = new URLSearchParams(body.toString('utf8'));
    let answer: { refresh_token?: string; access_token?: string } = {};
    try {
      answer = JSON.parse(payload.toString('utf8')) as typeof answer;
    } catch {
      // An error body that is not JSON: the grant failed, which `status` says.
    }
    this.exchanges.push({
      presented: form.get('refresh_token') ?? '',
      issued: status === 200 ? (answer.refresh_token ?? null) : null,
      issuedAccessToken: status === 200 ? (answer.access_token ?? null) : null,
      status,
      at,
    });
  }
}

function isRefreshGrant(req: IncomingMessage, body: Buffer): boolean {
  return (
    (req.url?.startsWith('/oauth2/token') ?? false) && new URLSearchParams(body.toString('utf8')).get('grant_type') === 'refresh_token'
  );
}

/** A small seeded generator (mulberry32): the same seed gives the same draws. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
