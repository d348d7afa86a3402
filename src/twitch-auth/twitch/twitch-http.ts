import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { WireErrorResponse } from './twitch-wire.types.js';
import { TwitchNetworkError, TwitchRateLimitError, TwitchServerError, TwitchTimeoutError, type TwitchEndpoint } from './twitch.errors.js';

/** One HTTP exchange with Twitch, with secrets only ever in the body or headers. */
export interface TwitchHttpRequest {
  endpoint: TwitchEndpoint;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Aborts the request early (the caller gave up). */
  signal?: AbortSignal;
}

/** Status plus parsed JSON body (null for an empty or non-JSON body). */
export interface TwitchHttpResponse {
  status: number;
  body: unknown;
  /** Header names in lower case, as Node parses them. */
  headers: IncomingHttpHeaders;
}

/**
 * Sends a request and turns the ways it can fail without a usable answer into
 * transient errors: network failure, timeout, 5xx and 429. Other statuses are
 * returned for the caller to interpret.
 */
export async function sendTwitchRequest(request: TwitchHttpRequest): Promise<TwitchHttpResponse> {
  const headers: Record<string, string> = { Accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (request.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(request.form).toString();
  } else if (request.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(request.json);
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  let answer: RawAnswer;
  try {
    answer = await exchange(request, headers, body);
  } catch (error) {
    if (error instanceof RequestTimedOut) throw new TwitchTimeoutError(request.endpoint, request.timeoutMs);
    if (request.signal?.aborted) throw request.signal.reason ?? error;
    throw new TwitchNetworkError(request.endpoint, error);
  }
  const parsed = parseJson(answer.text);
  const twitchMessage = errorMessageOf(parsed);
  if (answer.status >= 500) {
    throw new TwitchServerError({ status: answer.status, twitchMessage, endpoint: request.endpoint });
  }
  if (answer.status === 429) {
    throw new TwitchRateLimitError(
      { status: 429, twitchMessage, endpoint: request.endpoint },
      retryAfterMs(singleHeader(answer.headers['ratelimit-reset'])),
    );
  }
  return { status: answer.status, body: parsed, headers: answer.headers };
}

/**
 * Keep-alive connections to Twitch, shared by every client in the process.
 * Idle ones close after 5 s, as with Node's global agent, but all are kept
 * until then (the global agent keeps 256): after a burst of refreshes the
 * next burst reuses them instead of connecting again.
 */
const agentOptions = { keepAlive: true, timeout: 5_000, maxFreeSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' } as const;
const plainAgent = new HttpAgent(agentOptions);
const tlsAgent = new HttpsAgent(agentOptions);

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

class RequestTimedOut extends Error {}

/**
 * One exchange over `node:http(s)` and the keep-alive agents above. Cheaper
 * per request than `fetch`, whose request body goes through web streams (a
 * form body is three streams once the request is cloned). Redirects are not
 * followed. Rejects with `RequestTimedOut` after `timeoutMs` (the answer's
 * body included), with the signal's reason on abort, or with the socket error.
 */
function exchange(request: TwitchHttpRequest, headers: Record<string, string>, body: string | undefined): Promise<RawAnswer> {
  const { signal } = request;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<RawAnswer>((resolve, reject) => {
    let settled = false;
    const settle = (error: unknown, answer?: RawAnswer): void => {
      if (settled) return;
      settled = true;
      timeout.removeEventListener('abort', onTimeout);
      signal?.removeEventListener('abort', onAbort);
      if (answer) {
        resolve(answer);
      } else {
        outgoing.destroy();
        reject(error);
      }
    };
    // AbortSignal.timeout runs on Node's own clock, which fake timers installed by an app or a test do not move.
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const onTimeout = (): void => settle(new RequestTimedOut());
    const onAbort = (): void => settle(signal!.reason);
    const tls = request.url.startsWith('https:');
    const send = tls ? httpsRequest : httpRequest;
    const outgoing = send(request.url, { method: request.method, headers, agent: tls ? tlsAgent : plainAgent }, (incoming) => {
      let text = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (text += chunk));
      incoming.on('end', () => settle(null, { status: incoming.statusCode ?? 0, headers: incoming.headers, text }));
      incoming.on('error', (error) => settle(error));
      incoming.on('close', () => {
        if (incoming.complete) return;
        settle(Object.assign(new Error('The connection closed before the answer was complete.'), { code: 'ECONNRESET' }));
      });
    });
    timeout.addEventListener('abort', onTimeout, { once: true });
    signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error) => settle(error));
    outgoing.end(body);
  });
}

/** Twitch's `message` (or `error`) field of an error body, if any. */
export function errorMessageOf(body: unknown): string | null {
  if (body && typeof body === 'object') {
    const { message, error } = body as Partial<WireErrorResponse>;
    if (typeof message === 'string' && message !== '') return message;
    if (typeof error === 'string' && error !== '') return error;
  }
  return null;
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function singleHeader(value: string | string[] | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function retryAfterMs(resetHeader: string | null): number | null {
  const resetAt = Number(resetHeader);
  if (!resetHeader || !Number.isFinite(resetAt)) return null;
  return Math.max(0, resetAt * 1000 - Date.now());
}
