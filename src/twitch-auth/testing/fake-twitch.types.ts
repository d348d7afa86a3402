/** Public shapes of FakeTwitch: options, seeded data, the request log and the route table. */

/** How FakeTwitch behaves; every field has a default. */
export interface FakeTwitchOptions {
  /** Port to listen on (127.0.0.1 only). Default 0: a free port. */
  port?: number;
  /** The one registered application's client id. Default `'fake-client-id'`. */
  clientId?: string;
  /** The application's client secret; `null` makes it a public client (no secret asked). Default `'fake-client-secret'`. */
  clientSecret?: string | null;
  /** Lifetime of user access tokens in seconds; 0 = they never expire (validate says `expires_in: 0`). Default 14400. */
  accessTokenTtlSeconds?: number;
  /** Lifetime of app access tokens (client credentials) in seconds. Default 5000000. */
  appTokenTtlSeconds?: number;
  /** Lifetime of device codes in seconds. Default 1800. */
  deviceCodeTtlSeconds?: number;
  /** Poll interval the device endpoint asks for, in seconds. Default 5. */
  deviceIntervalSeconds?: number;
  /** A refresh token works once; reusing it revokes the user's whole grant (as Twitch does for public clients). Default true. */
  singleUseRefreshTokens?: boolean;
  /** Delay added to every response, in milliseconds (for benchmarks). Default 0. */
  latencyMs?: number;
  /** Clock in epoch milliseconds used for every expiry. Default `Date.now`. */
  now?: () => number;
  /** Redirect URIs registered for the application; absent = any URI is accepted. */
  redirectUris?: string[];
  /**
   * Helix's per-token rate limit: `points` per `windowMs` for each token (the
   * app's, each user's); `false` turns it off (no `Ratelimit-*` headers).
   * Default 800 points per 60,000 ms, as on Twitch.
   */
  helixRateLimit?: { points?: number; windowMs?: number } | false;
  /** Extra routes (e.g. Helix) served next to the identity routes. */
  routes?: FakeTwitchRoute[];
  /** EventSub WebSocket: a socket with no subscription (or conduit shard) this long after its welcome is closed with 4003. Default 10000, as on Twitch. */
  eventSubWelcomeTimeoutMs?: number;
  /** EventSub WebSocket: after `session_reconnect`, the old socket is closed with 4004 unless replaced within this. Default 30000, as on Twitch. */
  eventSubReconnectGraceMs?: number;
  /**
   * EventSub WebSocket: the smallest `keepalive_timeout_seconds` a client may ask for (fractions allowed).
   * Default 10, as on Twitch; tests of keepalive watchdogs may lower it to stay fast.
   */
  eventSubMinKeepaliveSeconds?: number;
}

/** A Twitch account known to FakeTwitch. */
export interface FakeUser {
  /** Numeric Twitch user id, as a string. */
  userId: string;
  /** Lowercase login name. */
  login: string;
}

/** A user token seeded with `FakeTwitch.issueToken`. */
export interface IssuedToken {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires; 0 = never. */
  expiresIn: number;
  scopes: string[];
}

/** An app token seeded with `FakeTwitch.issueAppToken`. */
export interface IssuedAppToken {
  accessToken: string;
  /** Seconds until the token expires; 0 = never. */
  expiresIn: number;
}

/** What FakeTwitch knows about an access token, for assertions. */
export interface FakeTokenInfo {
  /** `'app'` for client-credentials tokens, which have no user. */
  kind: 'user' | 'app';
  /** Owner of a user token; `null` for app tokens. */
  userId: string | null;
  clientId: string;
  scopes: string[];
  /** Epoch milliseconds; `null` when the token never expires. */
  expiresAt: number | null;
  /** True once revoked (by `/oauth2/revoke`, a control method, or refresh-token reuse). */
  revoked: boolean;
}

/** State of a device code started through `POST /oauth2/device`. */
export interface FakeDeviceCode {
  deviceCode: string;
  /** The 8-letter code a user types on the activation page. */
  userCode: string;
  scopes: string[];
  /** Epoch milliseconds after which polls answer `expired_token`. */
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied' | 'consumed';
  /** The approving user, once approved. */
  userId: string | null;
}

/** One recorded refresh-token reuse (which revoked the user's grant). */
export interface RefreshTokenReuse {
  userId: string;
  /** Epoch milliseconds. */
  at: number;
}

/** Groups of routes that `failNext` can target. */
export type FakeTwitchEndpoint = 'token' | 'device' | 'validate' | 'revoke' | 'authorize' | 'helix';

/**
 * An injected failure: HTTP 500, HTTP 429 (with `Ratelimit-Reset`), `'timeout'`
 * (never answer until `close()`), `'reset'` (destroy the socket) or a given
 * status and Twitch error message.
 */
export type FakeFailure = 500 | 429 | 'timeout' | 'reset' | { status: number; message: string };

/** Narrows which requests `failNext` hits, and when. */
export interface FailNextOptions {
  /** Only token requests with this `grant_type` (e.g. `'refresh_token'`). */
  grantType?: string;
  /**
   * Handle the request first (a refresh token gets used up, a code consumed)
   * and then fail instead of answering: a response lost on the way back.
   */
  afterHandling?: boolean;
}

/** One request FakeTwitch received. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Query string parameters. */
  query: Record<string, string>;
  /** Parameters of an urlencoded body. */
  form: Record<string, string>;
  /** Headers as received (names lowercased, repeated values joined with `, `). */
  headers: Record<string, string>;
  /** Epoch milliseconds (FakeTwitch's clock) when the request arrived. */
  at: number;
  /** `grant_type` of `/oauth2/token` requests. */
  grantType?: string;
  /** Status answered; absent while pending or when the request was never answered (timeout, reset). */
  status?: number;
}

/** Filter for `FakeTwitch.countRequests`; every given field must match. */
export interface RequestFilter {
  method?: string;
  path?: string;
  grantType?: string;
  status?: number;
}

/** A chat message FakeTwitch accepted on `POST /helix/chat/messages`. */
export interface FakeChatMessage {
  messageId: string;
  broadcasterId: string;
  senderId: string;
  message: string;
  /** True when sent with an app token (Twitch shows the bot badge). */
  botBadge: boolean;
}

/** A parsed request handed to a route handler. */
export interface FakeTwitchRequest {
  method: string;
  path: string;
  /** Query parameters; a repeated one keeps its last value (see `searchParams` for all). */
  query: Record<string, string>;
  /** Every query parameter, repeated ones included (Helix's `id=1&id=2`). */
  searchParams: URLSearchParams;
  form: Record<string, string>;
  /** Query and form parameters together; the body wins on conflicts. */
  params: Record<string, string>;
  headers: Record<string, string>;
  rawBody: Buffer;
  /** The parsed body when it was sent as `application/json`. */
  json: unknown;
}

/** What a route handler answers. An object body is sent as JSON, a string as is. */
export interface FakeTwitchResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | object;
}

/** One entry of FakeTwitch's route table. */
export interface FakeTwitchRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Exact path, without query string (e.g. `/helix/eventsub/subscriptions`). */
  path: string;
  /** Group that `failNext` targets for this route. */
  endpoint: FakeTwitchEndpoint;
  /** Answers the request; may change FakeTwitch's state. */
  handle(request: FakeTwitchRequest): FakeTwitchResponse | Promise<FakeTwitchResponse>;
}
