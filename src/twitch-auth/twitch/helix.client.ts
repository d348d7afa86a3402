import type { HelixMethod } from '../helix/helix.types.js';
import { HelixResponseError } from '../helix/helix.errors.js';
import type { TwitchApiClient } from '../helix/twitch-api.client.js';
import type { WireCreateEventSubSubscription, WireEventSubSubscriptionList } from './eventsub-wire.types.js';
import { errorMessageOf } from './twitch-http.js';
import { TwitchRequestError } from './twitch.errors.js';

/** One Helix call with the app token. Query values are never secrets: they end up in logs. */
export interface HelixRequest {
  method: HelixMethod;
  /** Path below the Helix base, e.g. `/eventsub/subscriptions`. */
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
}

/** Status and parsed JSON body of a Helix answer. */
export interface HelixAnswer {
  status: number;
  body: unknown;
}

/** Outcome of creating a subscription: Twitch's 202 list, or `exists` for its 409. */
export type CreateEventSubSubscriptionOutcome = { created: true; list: WireEventSubSubscriptionList } | { created: false };

/**
 * The EventSub subscription calls the module makes, with the app access
 * token, on top of `TwitchApiClient` (which replaces a rejected app token
 * once, queues on the rate limit and retries transient failures). Every call
 * here is safe to repeat: reads and deletes are idempotent, and a
 * subscription created by an attempt whose answer was lost makes the next one
 * get Twitch's 409 (`exists`).
 */
export class TwitchHelixClient {
  constructor(private readonly api: TwitchApiClient) {}

  /** Sends a request with the app token; any status but 401 is returned for the caller to interpret. */
  requestWithAppToken(request: HelixRequest): Promise<HelixAnswer> {
    return this.api.request(request.method, request.path, { auth: 'app', query: request.query, json: request.json, idempotent: true });
  }

  /** `POST /eventsub/subscriptions`: 202 → created; 409 → already exists. */
  async createEventSubSubscription(body: WireCreateEventSubSubscription): Promise<CreateEventSubSubscriptionOutcome> {
    const response = await this.requestWithAppToken({ method: 'POST', path: '/eventsub/subscriptions', json: body });
    if (response.status === 409) return { created: false };
    if (response.status !== 202 || !isSubscriptionList(response.body)) throw helixFailure(response, 'POST /eventsub/subscriptions');
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
    if (response.status !== 200 || !isSubscriptionList(response.body)) throw helixFailure(response, 'GET /eventsub/subscriptions');
    return response.body;
  }

  /** `DELETE /eventsub/subscriptions?id=`: true when deleted, false when Twitch did not know it. */
  async deleteEventSubSubscription(id: string): Promise<boolean> {
    const response = await this.requestWithAppToken({ method: 'DELETE', path: '/eventsub/subscriptions', query: { id } });
    if (response.status === 204) return true;
    if (response.status === 404) return false;
    throw helixFailure(response, 'DELETE /eventsub/subscriptions');
  }
}

/** The typed error for a Helix answer the caller did not expect. */
export function helixFailure(response: HelixAnswer, call: string): TwitchRequestError {
  const [method, path] = call.split(' ');
  return new HelixResponseError({ status: response.status, twitchMessage: errorMessageOf(response.body), method, path });
}

function isSubscriptionList(body: unknown): body is WireEventSubSubscriptionList {
  return body !== null && typeof body === 'object' && Array.isArray((body as { data?: unknown }).data);
}
