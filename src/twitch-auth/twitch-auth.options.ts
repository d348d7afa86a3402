import type { Type } from '@nestjs/common';
import type { TokenRepository } from './storage/token-repository.interface.js';
import type { TokenSource } from './tokens/token-source.interface.js';
import type { EventSubConduitOptions, ResolvedEventSubConduitOptions } from './eventsub/eventsub-conduit.options.js';

// The options' shapes; `resolveTwitchAuthOptions` (twitch-auth.option-resolver.ts) fills defaults and checks them.

/** Options of the OAuth routes (`OAuthController`). */
export interface OAuthRouteOptions {
  /** Set false to register no routes (use `TokenService.getAuthorizationUrl`/`exchangeCode` yourself). Default true. */
  enabled?: boolean;
  /** Start path. Default `/oauth`. */
  path?: string;
  /** Callback path; must be the path of `redirectUri`. Default `/oauth/callback`. */
  callbackPath?: string;
  /** How long a `state` is accepted. Default 600; at most 2147483 (a Node timer's limit). */
  stateTtlSeconds?: number;
  /** Where to send the browser after success instead of the built-in page (same-origin path or absolute URL). */
  successRedirect?: string;
  /**
   * What the callback does with a grant that lacks scopes the stored token
   * of the same user has (e.g. someone followed a `/oauth?scopes=chat:read`
   * link while the bot's token has `chat:read chat:edit`). Default false: the
   * stored token is kept, the new one revoked, and the result page says so.
   * True: the new grant replaces the stored one, as any wider grant does.
   */
  replaceNarrowerGrant?: boolean;
  /**
   * The scope sets the built-in start route may ask Twitch for, by name:
   * `/oauth?set=bot`, or `/oauth?scopes=…` naming exactly one set's scopes.
   * Any other scopes are refused (400), so a link cannot make a user grant
   * scopes the app never asked for. `default` is `defaultScopes` unless
   * given here. Default `{ default: defaultScopes }`.
   */
  scopeSets?: Record<string, string[]>;
}

/**
 * How the EventSub callback is served.
 * - `'controller'`: `EventSubController`, an ordinary Nest route. The global
 *   prefix, Nest middleware, guards, interceptors and filters apply to it,
 *   and the app must be created with `rawBody: true`.
 * - `'direct'`: answered at the app's HTTP server, ahead of Nest and of
 *   Express or Fastify (a route on the framework instance serves requests
 *   handed to it some other way, e.g. by a serverless handler). It reads the
 *   body itself (no `rawBody` option needed), is not under the global prefix,
 *   and no guard, interceptor, pipe, filter, Express middleware or Fastify
 *   hook sees it. The fastest way to receive; see docs/eventsub.md.
 */
export type EventSubMount = 'controller' | 'direct';

/** Options of the EventSub WebSocket transport (user tokens). */
export interface EventSubWebSocketOptions {
  /**
   * Silence Twitch may leave on a socket before it sends a keepalive,
   * 10 to 600 seconds; no message for this long plus a few seconds means the
   * socket is dead and is replaced. Default 10 (Twitch's default).
   */
  keepaliveTimeoutSeconds?: number;
  /**
   * Take part in creating the stored WebSocket subscriptions: at boot and on
   * every lease round, this instance takes free users (up to its fair share)
   * and creates their stored subscriptions. Default true. With false it only
   * holds the users it subscribes for itself (see "Several instances" in docs/eventsub.md).
   */
  restoreAtBoot?: boolean;
  /**
   * One instance at a time opens a user's sockets, under a lease in the
   * database; it lapses this long after its holder's last renewal (how long
   * a crashed instance's users stay without sockets). Default 30; at least 2.
   */
  leaseSeconds?: number;
  /**
   * How often leases are renewed and stored subscriptions reconciled: also
   * how soon a subscription stored by another instance is created, and how
   * soon users are taken over after a graceful stop. Default 10; less than half of `leaseSeconds`.
   */
  renewSeconds?: number;
}

/**
 * Options of EventSub: the webhook receiver (needs `secret`) and the
 * WebSocket transport (needs nothing: `eventSub` may be left out, or hold
 * only `webSocket` and `maxMessageAgeSeconds`).
 */
export interface EventSubOptions {
  /**
   * The webhook secret given to Twitch on subscribe: 10 to 100 ASCII
   * characters. Not the client secret. Required for webhooks (and for any
   * other webhook option); WebSocket-only apps leave it out.
   */
  secret?: string;
  /** Secrets still accepted during a rotation. */
  previousSecrets?: string[];
  /** Callback path. Default `/eventsub/callback`. */
  path?: string;
  /** How the callback is served. Default `'controller'`. */
  mount?: EventSubMount;
  /** Public HTTPS origin Twitch reaches this app at, e.g. `https://bot.example.com`; needed to subscribe. */
  publicUrl?: string;
  /** Messages older than this are rejected as replays. Default 600; at most 2147483 (a Node timer's limit). */
  maxMessageAgeSeconds?: number;
  /**
   * `mount: 'direct'` only: a request whose body has not fully arrived this
   * long after its headers gets 408 and its connection is closed, so stalled
   * senders cannot hold memory and sockets for Node's 300 s request timeout.
   * Twitch sends a few kilobytes at once. Default 10000.
   */
  bodyTimeoutMs?: number;
  /** The WebSocket transport. */
  webSocket?: EventSubWebSocketOptions;
  /** Receive subscriptions through a conduit whose shards are spread across instances; see `EventSubConduitOptions`. */
  conduit?: EventSubConduitOptions;
}

/** Options of the scheduled validate-and-refresh provider. */
export interface MaintenanceOptions {
  /** Default true. */
  enabled?: boolean;
  /**
   * How often due tokens are looked for. Default 60. At most
   * `validateEverySeconds / 2.2` (1636.36 with the default 3600): ticks fire
   * up to 10 % late (jitter) and a token is taken up two tick gaps ahead of
   * its validation deadline, so two gaps (one tick skipped because the
   * previous one overran) must fit in `validateEverySeconds` for every token
   * to still be validated within it.
   */
  tickSeconds?: number;
  /** Refresh tokens expiring within this many seconds. Default 600; at most 2147483 (a Node timer's limit). */
  refreshBeforeExpirySeconds?: number;
  /** Validate every token at least this often; Twitch requires hourly, so at most 3600. Default 3600. */
  validateEverySeconds?: number;
  /** Tokens worked on at once per tick. Default 8. */
  concurrency?: number;
}

/** Where Twitch lives; override to point at FakeTwitch in tests. */
export interface TwitchEndpointOptions {
  /** Default `https://id.twitch.tv`. */
  idBaseUrl?: string;
  /** Default `https://api.twitch.tv/helix`. */
  helixBaseUrl?: string;
  /**
   * EventSub WebSocket endpoint (ws: or wss:). Default
   * `wss://eventsub.wss.twitch.tv/ws`. Subscriptions for its sockets are
   * created at `helixBaseUrl`, so a local server (FakeTwitch, or
   * `twitch event websocket start-server` with helixBaseUrl
   * `http://127.0.0.1:8080`) stands in for Twitch.
   */
  eventSubWebSocketUrl?: string;
  /**
   * Per-request timeout in milliseconds. Default 10000. At most 120000: a
   * lease lasts 4 × timeoutMs, and shutdown waits about as long for a
   * refresh in flight (3 attempts, their backoffs and the write).
   */
  timeoutMs?: number;
}

/** The `bot` option. */
export interface BotAccountOptions {
  /** The role the token serves, as used by `getTokenForIntent`, e.g. `chat`. */
  intent: string;
  /** Every scope the bot needs, e.g. `['user:read:chat', 'user:write:chat']`. */
  scopes: string[];
}

/** Storage choice: a class (built by Nest, may inject), an instance, or a built-in name. */
export type TokenStorageOption = Type<TokenRepository> | TokenRepository | 'memory' | 'typeorm';

/** Everything `TwitchAuthModule.forRoot` accepts. */
export interface TwitchAuthModuleOptions {
  clientId: string;
  /** Absent means a public client: device flow only, refresh without secret. */
  clientSecret?: string;
  /** Must equal the redirect URL registered at Twitch. Default `http://localhost:3000/oauth/callback`. */
  redirectUri?: string;
  /** Scopes asked when a flow is started without any. */
  defaultScopes?: string[];
  /** Default 'memory' (with a startup warning). */
  storage?: TokenStorageOption;
  /**
   * 32 bytes as base64 or hex; tokens are AES-256-GCM encrypted at rest when
   * set, each bound to its user and column. Once set, a plain stored token is
   * refused (see `acceptPlaintextTokens`). See "Encryption at rest" in the README.
   */
  encryptionKey?: string;
  /**
   * Keys tokens may still be encrypted with, during a key rotation: read with
   * any of them, always written with `encryptionKey`. Drop one once
   * `twitch-auth rotate-key` has rewritten every row. Same format as `encryptionKey`.
   */
  previousEncryptionKeys?: string[];
  /**
   * TEMPORARY migration switch: serve plain stored tokens although
   * `encryptionKey` is set (each is encrypted by its row's next write). Logs a
   * warning at startup while set. Prefer `twitch-auth rotate-key`, which
   * encrypts every plain row at once; then remove this option. Default false.
   */
  acceptPlaintextTokens?: boolean;
  oauth?: OAuthRouteOptions;
  eventSub?: EventSubOptions;
  maintenance?: MaintenanceOptions;
  /** "Simple" mode: seed this one token at boot. */
  token?: { accessToken: string; refreshToken?: string };
  /**
   * "A bot account in one line": the intent (e.g. `chat`) and scopes the app
   * needs a user token for. At boot, when no valid stored token holds the
   * intent with every scope, one prompt is logged (the device-code URL and
   * code, plus the `/oauth` link when those routes are mounted) and the grant
   * is awaited in the background; it is stored under the intent,
   * `twitch.bot.ready` is emitted and `TokenService.whenReady(intent)`
   * resolves. A token that later loses its grant prompts again. With the
   * OAuth routes mounted, the scopes become the `bot` scope set unless a set
   * with exactly these scopes exists.
   */
  bot?: BotAccountOptions;
  /** Asked for a token when none fits. */
  tokenSource?: Type<TokenSource>;
  twitch?: TwitchEndpointOptions;
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
}

/** Options with every default filled in, as the module's providers read them. */
export interface ResolvedTwitchAuthOptions {
  clientId: string;
  clientSecret: string | null;
  redirectUri: string;
  defaultScopes: string[];
  encryptionKey: string | null;
  previousEncryptionKeys: string[];
  acceptPlaintextTokens: boolean;
  oauth: Required<Omit<OAuthRouteOptions, 'successRedirect'>> & { successRedirect: string | null };
  /** The webhook receiver's options; null without `eventSub.secret`. */
  eventSub:
    | (Required<Omit<EventSubOptions, 'publicUrl' | 'secret' | 'webSocket' | 'conduit'>> & { secret: string; publicUrl: string | null })
    | null;
  /** The WebSocket transport's options, always set. */
  eventSubWebSocket: {
    keepaliveTimeoutSeconds: number;
    maxMessageAgeSeconds: number;
    restoreAtBoot: boolean;
    leaseSeconds: number;
    renewSeconds: number;
  };
  /** `eventSub.conduit` resolved; null when the app uses no conduit. */
  eventSubConduit: ResolvedEventSubConduitOptions | null;
  maintenance: Required<MaintenanceOptions>;
  token: { accessToken: string; refreshToken: string | null } | null;
  /** The `bot` option, with the `oauth.scopeSets` name of its scopes (null when the routes are off). */
  bot: (BotAccountOptions & { scopeSet: string | null }) | null;
  twitch: Required<TwitchEndpointOptions>;
}
