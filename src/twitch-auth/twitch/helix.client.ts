import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessToken } from '../tokens/access-token.js';
import type { WireCreateEventSubSubscription, WireEventSubSubscriptionList } from './eventsub-wire.types.js';
import { errorMessageOf, sendTwitchRequest, type TwitchHttpResponse } from './twitch-http.js';
import { InvalidAccessTokenError, TwitchRateLimitError, TwitchRequestError, TwitchUnexpectedResponseError } from './twitch.errors.js';

/** Where Helix lives and who is calling. */
export interface TwitchHelixClientConfig {
  clientId: string;
  /** e.g. `https://api.twitch.tv/helix`, without trailing slash. */
  helixBaseUrl: string;
  timeoutMs: number;
  /** Tries per call when Twitch cannot be reached, times out, or answers 5xx or 429. Default 3. */
  attempts?: number;
  /** Wait before the first retry; each later one waits four times longer (±50 % jitter). Default 250. */
  retryDelayMs?: number;
}

/** The longest wait for a rate limit to reset before retrying; a later reset is left to the caller. */
const MAX_RATE_LIMIT_WAIT_MS = 5_000;

/** The app-token side the client needs: `AppTokenProvider` fits. */
export interface HelixAppTokens {
  get(): Promise<AccessToken>;
  /** Drops `rejected` (unless it was already replaced) and returns a fresh token. */
  replace(rejected?: string): Promise<AccessToken>;
}

/** One Helix call. Query values are never secrets: they end up in logs. */
export interface HelixRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  /** Path below the Helix base, e.g. `/eventsub/subscriptions`. */
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
}

/** Outcome of creating a subscription: Twitch's 202 list, or `exists` for its 409. */
export type CreateEventSubSubscriptionOutcome = { created: true; list: WireEventSubSubscriptionList } | { created: false };

/**
 * Client of Twitch's Helix API with the app access token and `Client-Id`.
 * A 401 means the app token died early: it is replaced once (through the
 * provider's single flight) and the call retried. Network failures,
 * timeouts, 5xx and 429 are retried with backoff (a 429 waits for Twitch's
 * `Ratelimit-Reset`, up to 5 s); once the tries are used up the transient
 * `TwitchRequestError` reaches the caller. Every call here is safe to repeat:
 * reads and deletes are idempotent, and a subscription created by an attempt
 * whose answer was lost makes the next one get Twitch's 409 (`exists`).
 */
export class TwitchHelixClient {
  constructor(
    private readonly config: TwitchHelixClientConfig,
    private readonly appTokens: HelixAppTokens,
  ) {}

  /** Sends a request with the app token; any status but 401 is returned for the caller to interpret. */
  async requestWithAppToken(request: HelixRequest): Promise<TwitchHttpResponse> {
    let token = await this.appTokens.get();
    let response = await this.send(request, token.accessToken);
    if (response.status === 401) {
      token = await this.appTokens.replace(token.accessToken);
      response = await this.send(request, token.accessToken);
      if (response.status === 401) {
        throw new InvalidAccessTokenError({ status: 401, twitchMessage: errorMessageOf(response.body), endpoint: 'helix' });
      }
    }
    return response;
  }

  /** `POST /eventsub/subscriptions`: 202 → created; 409 → already exists. */
  async createEventSubSubscription(body: WireCreateEventSubSubscription): Promise<CreateEventSubSubscriptionOutcome> {
    const response = await this.requestWithAppToken({ method: 'POST', path: '/eventsub/subscriptions', json: body });
    if (response.status === 409) return { created: false };
    if (response.status !== 202 || !isSubscriptionList(response.body)) throw helixFailure(response);
    return { created: true, list: response.body };
  }

  /** One page of `GET /eventsub/subscriptions`; pass `pagination.cursor` as `after` for the next. */
  async listEventSubSubscriptions(query: {
    status?: string;
    type?: string;
    user_id?: string;
    after?: string;
  }): Promise<WireEventSubSubscriptionList> {
    const response = await this.requestWithAppToken({ method: 'GET', path: '/eventsub/subscriptions', query });
    if (response.status !== 200 || !isSubscriptionList(response.body)) throw helixFailure(response);
    return response.body;
  }

  /** `DELETE /eventsub/subscriptions?id=`: true when deleted, false when Twitch did not know it. */
  async deleteEventSubSubscription(id: string): Promise<boolean> {
    const response = await this.requestWithAppToken({ method: 'DELETE', path: '/eventsub/subscriptions', query: { id } });
    if (response.status === 204) return true;
    if (response.status === 404) return false;
    throw helixFailure(response);
  }

  /** `sendOnce`, tried again after transient failures. */
  private async send(request: HelixRequest, accessToken: string): Promise<TwitchHttpResponse> {
    const attempts = this.config.attempts ?? 3;
    const firstDelayMs = this.config.retryDelayMs ?? 250;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendOnce(request, accessToken);
      } catch (error) {
        if (!(error instanceof TwitchRequestError) || !error.transient || attempt >= attempts) throw error;
        const backoffMs = firstDelayMs * 4 ** (attempt - 1) * (0.5 + Math.random());
        const resetMs = error instanceof TwitchRateLimitError ? error.retryAfterMs : null;
        if (resetMs !== null && resetMs > MAX_RATE_LIMIT_WAIT_MS) throw error;
        await sleep(Math.max(backoffMs, resetMs ?? 0));
      }
    }
  }

  private sendOnce(request: HelixRequest, accessToken: string): Promise<TwitchHttpResponse> {
    const url = new URL(`${this.config.helixBaseUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    return sendTwitchRequest({
      endpoint: 'helix',
      method: request.method,
      url: url.toString(),
      json: request.json,
      headers: { Authorization: `Bearer ${accessToken}`, 'Client-Id': this.config.clientId },
      timeoutMs: this.config.timeoutMs,
    });
  }
}

/** The typed error for a Helix answer the caller did not expect. */
export function helixFailure(response: TwitchHttpResponse): TwitchRequestError {
  return new TwitchUnexpectedResponseError({ status: response.status, twitchMessage: errorMessageOf(response.body), endpoint: 'helix' });
}

function isSubscriptionList(body: unknown): body is WireEventSubSubscriptionList {
  return body !== null && typeof body === 'object' && Array.isArray((body as { data?: unknown }).data);
}
