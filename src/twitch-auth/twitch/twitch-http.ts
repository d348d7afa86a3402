import type { WireErrorResponse } from './twitch-wire.types.js';
import { TwitchNetworkError, TwitchRateLimitError, TwitchServerError, TwitchTimeoutError, type TwitchEndpoint } from './twitch.errors.js';

/** One HTTP exchange with Twitch, with secrets only ever in the body or headers. */
export interface TwitchHttpRequest {
  endpoint: TwitchEndpoint;
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
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
  headers: Headers;
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
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await fetch(request.url, { method: request.method, headers, body, signal, redirect: 'manual' });
    text = await response.text();
  } catch (error) {
    if (timeout.aborted) throw new TwitchTimeoutError(request.endpoint, request.timeoutMs);
    if (request.signal?.aborted) throw request.signal.reason ?? error;
    throw new TwitchNetworkError(request.endpoint, error);
  }
  const parsed = parseJson(text);
  const twitchMessage = errorMessageOf(parsed);
  if (response.status >= 500) {
    throw new TwitchServerError({ status: response.status, twitchMessage, endpoint: request.endpoint });
  }
  if (response.status === 429) {
    throw new TwitchRateLimitError(
      { status: 429, twitchMessage, endpoint: request.endpoint },
      retryAfterMs(response.headers.get('ratelimit-reset')),
    );
  }
  return { status: response.status, body: parsed, headers: response.headers };
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

function retryAfterMs(resetHeader: string | null): number | null {
  const resetAt = Number(resetHeader);
  if (!resetHeader || !Number.isFinite(resetAt)) return null;
  return Math.max(0, resetAt * 1000 - Date.now());
}
