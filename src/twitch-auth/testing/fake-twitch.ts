import type {
  FailNextOptions,
  FakeChatMessage,
  FakeDeviceCode,
  FakeFailure,
  FakeTokenInfo,
  FakeTwitchEndpoint,
  FakeTwitchOptions,
  FakeTwitchRoute,
  FakeUser,
  IssuedAppToken,
  IssuedToken,
  RecordedRequest,
  RefreshTokenReuse,
  RequestFilter,
} from './fake-twitch.types.js';
import { FakeTwitchStore } from './fake-twitch.store.js';
import { resolveOptions } from './fake-twitch.options.js';
import { FakeDeviceStore } from './fake-twitch.devices.js';
import { FailureQueue } from './fake-twitch.failures.js';
import { FakeTwitchServer } from './fake-twitch.server.js';
import type { FakeTwitchContext } from './fake-twitch.context.js';
import { identityRoutes } from './fake-twitch.identity-routes.js';
import { browserRoutes } from './fake-twitch.browser-routes.js';
import { helixRoutes } from './fake-twitch.helix.js';
import { chatMessagesOf, helixChatRoutes } from './fake-twitch.helix-chat.js';
import { withHelixRateLimit } from './fake-twitch.rate-limit.js';
import { FakeEventSubHub } from './fake-twitch.eventsub-hub.js';
import { EVENTSUB_WS_PATH } from './fake-twitch.eventsub-ws.js';
import { helixConduitRoutes } from './fake-twitch.helix-conduits.js';
import { FakeTwitchEventSubControls } from './fake-twitch.eventsub-controls.js';

/**
 * A loopback fake of Twitch's identity server (id.twitch.tv) for tests and
 * offline demos: real HTTP on 127.0.0.1, Twitch's wire shapes and error
 * messages, single-use refresh tokens, the device-code flow, a clickable
 * consent page, failure injection and a request log. It never logs.
 *
 * ```ts
 * const fake = await FakeTwitch.start();
 * const { accessToken } = fake.issueToken({ userId: '42', scopes: ['chat:read'] });
 * // point the module at fake.idBaseUrl / fake.helixBaseUrl, then:
 * await fake.close();
 * ```
 */
export class FakeTwitch extends FakeTwitchEventSubControls {
  /** The user created at start; the browser pages act for it until `setBrowserUser`. */
  readonly defaultUser: FakeUser;
  private readonly failures: FailureQueue;
  private readonly retiredSecrets = new Set<string>();

  private constructor(
    private readonly context: FakeTwitchContext,
    private readonly server: FakeTwitchServer,
    failures: FailureQueue,
    private readonly eventSub: FakeEventSubHub,
  ) {
    super(eventSub);
    this.failures = failures;
    this.defaultUser = context.store.addUser({ login: 'fake_streamer' });
    context.browserUserId = this.defaultUser.userId;
  }

  /** Starts a FakeTwitch listening on 127.0.0.1 (a free port unless `options.port` says otherwise). */
  static async start(options: FakeTwitchOptions = {}): Promise<FakeTwitch> {
    const resolved = resolveOptions(options);
    const failures = new FailureQueue();
    const server = new FakeTwitchServer({
      port: resolved.port,
      latencyMs: resolved.latencyMs,
      now: resolved.now,
      failures,
    });
    const context: FakeTwitchContext = {
      options: resolved,
      store: new FakeTwitchStore(resolved),
      devices: new FakeDeviceStore(resolved),
      browserUserId: '',
      url: () => server.url,
    };
    const eventSub = new FakeEventSubHub(context);
    server.onUpgrade((req, socket, head) => eventSub.sockets.handleUpgrade(req, socket, head));
    const fake = new FakeTwitch(context, server, failures, eventSub);
    const routes = [
      ...identityRoutes(context),
      ...helixRoutes(context, eventSub),
      ...helixConduitRoutes(context, eventSub),
      ...helixChatRoutes(context),
      ...browserRoutes(context),
    ];
    for (const route of [...routes, ...(options.routes ?? [])]) server.addRoute(withHelixRateLimit(context, route));
    await server.listen();
    return fake;
  }

  /** Origin FakeTwitch listens on, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return this.server.url;
  }

  /** Base URL to use instead of `https://id.twitch.tv` (same as `url`). */
  get idBaseUrl(): string {
    return this.server.url;
  }

  /** Base URL to use instead of `https://api.twitch.tv/helix`. */
  get helixBaseUrl(): string {
    return `${this.server.url}/helix`;
  }

  /** The registered application's client id. */
  get clientId(): string {
    return this.context.options.clientId;
  }

  /** The registered application's client secret; `null` for a public client. */
  get clientSecret(): string | null {
    return this.context.options.clientSecret;
  }

  /** EventSub WebSocket URL to use instead of `wss://eventsub.wss.twitch.tv/ws`, e.g. `ws://127.0.0.1:41234/ws`. */
  get eventSubWebSocketUrl(): string {
    return `${this.server.url.replace(/^http/, 'ws')}${EVENTSUB_WS_PATH}`;
  }

  /** Stops the server and destroys every connection (EventSub sockets, keep-alive and deliberately hung ones included). */
  async close(): Promise<void> {
    await this.eventSub.close();
    await this.server.close();
  }

  /**
   * Serves an extra route (e.g. a Helix endpoint), replacing any route with
   * the same method and path. Routes of the `helix` endpoint get the per-token
   * rate limit (`helixRateLimit`) in front of them.
   */
  addRoute(route: FakeTwitchRoute): void {
    this.server.addRoute(withHelixRateLimit(this.context, route));
  }

  /** Chat messages accepted on `POST /helix/chat/messages` since the last reset, oldest first. */
  get chatMessages(): readonly FakeChatMessage[] {
    return [...chatMessagesOf(this.context.store)];
  }

  /** Adds a Twitch user; a missing id is generated (numeric), a missing login derived from it. */
  addUser(user: { userId?: string; login?: string } = {}): FakeUser {
    return this.context.store.addUser(user);
  }

  /** The user with this id, or `null`. */
  getUser(userId: string): FakeUser | null {
    const user = this.context.store.getUser(userId);
    return user ? { ...user } : null;
  }

  /** The user the browser pages act for. */
  get browserUser(): FakeUser {
    return this.context.store.ensureUser(this.context.browserUserId);
  }

  /** Chooses who is "logged in" on the authorize and activation pages (created if unknown). */
  setBrowserUser(userId: string): void {
    this.context.store.ensureUser(userId);
    this.context.browserUserId = userId;
  }

  /**
   * Seeds a user token as if the user had authorized the app (creates the user
   * if unknown). `expiresInSeconds` defaults to `accessTokenTtlSeconds`; 0 = never expires.
   */
  issueToken(grant: { userId: string; scopes: string[]; expiresInSeconds?: number }): IssuedToken {
    const ttl = grant.expiresInSeconds ?? this.context.options.accessTokenTtlSeconds;
    return this.context.store.issueUserTokens(grant.userId, grant.scopes, ttl);
  }

  /** Seeds an app access token, as client credentials would give. */
  issueAppToken(grant: { scopes?: string[]; expiresInSeconds?: number } = {}): IssuedAppToken {
    const ttl = grant.expiresInSeconds ?? this.context.options.appTokenTtlSeconds;
    return { accessToken: this.context.store.issueAppToken(grant.scopes ?? [], ttl), expiresIn: ttl };
  }

  /** Creates an authorization code, single use, bound to `redirectUri`, valid ten minutes. */
  issueCode(grant: { userId: string; scopes: string[]; redirectUri: string }): string {
    return this.context.store.issueCode(grant.userId, grant.scopes, grant.redirectUri);
  }

  /** The user approves a device code (default: the browser user); the next poll gets tokens. */
  approveDevice(userCode: string, userId: string = this.context.browserUserId): void {
    this.context.store.ensureUser(userId);
    this.context.devices.approve(userCode, userId);
  }

  /** The user declines a device code; polls answer `access_denied`. */
  denyDevice(userCode: string): void {
    this.context.devices.deny(userCode);
  }

  /** The next `count` polls of this device code answer 400 `slow_down`. */
  slowDownNext(userCode: string, count = 1): void {
    this.context.devices.slowDownNext(userCode, count);
  }

  /** The most recently started device code, or `null`. */
  get lastDeviceCode(): FakeDeviceCode | null {
    return this.context.devices.last();
  }

  /** Every device code started so far, oldest first. */
  get deviceCodes(): FakeDeviceCode[] {
    return this.context.devices.list();
  }

  /** Revokes an access token and the refresh token issued with it. False if unknown or already revoked. */
  revokeToken(accessToken: string): boolean {
    return this.context.store.revokeToken(accessToken);
  }

  /** Revokes the user's whole grant: every access and refresh token they hold for this app. */
  revokeUser(userId: string): void {
    this.context.store.revokeGrant(userId);
  }

  /** Makes an access token expire now (its refresh token keeps working). False if unknown. */
  expireToken(accessToken: string): boolean {
    return this.context.store.expireToken(accessToken);
  }

  /**
   * Makes the next `count` requests to `endpoint` fail with `failure`: 500,
   * 429 (with `Ratelimit-Reset`), `'timeout'` (no answer until `close()`),
   * `'reset'` (socket destroyed) or `{ status, message }`. `options.grantType`
   * narrows token requests; `options.afterHandling` fails after the request
   * took effect (a lost response).
   */
  failNext(endpoint: FakeTwitchEndpoint, count: number, failure: FakeFailure, options?: FailNextOptions): void {
    this.failures.add(endpoint, count, failure, options);
  }

  /** Drops every failure queued with `failNext`. */
  clearFailures(): void {
    this.failures.clear();
  }

  /** Every request received so far, in arrival order (live array). */
  get requests(): readonly RecordedRequest[] {
    return this.server.requests;
  }

  /** How many received requests match every field of `filter`. */
  countRequests(filter: RequestFilter = {}): number {
    const method = filter.method?.toUpperCase();
    return this.server.requests.filter(
      (request) =>
        (method === undefined || request.method === method) &&
        (filter.path === undefined || request.path === filter.path) &&
        (filter.grantType === undefined || request.grantType === filter.grantType) &&
        (filter.status === undefined || request.status === filter.status),
    ).length;
  }

  /** Empties the request log. */
  clearRequests(): void {
    this.server.requests.length = 0;
  }

  /** Every reuse of an already used refresh token (each revoked that user's grant). */
  get reusedRefreshTokens(): RefreshTokenReuse[] {
    return this.context.store.reuses.map((reuse) => ({ ...reuse }));
  }

  /**
   * Every secret this server issued or holds: access and refresh tokens,
   * authorization and device codes, and the client secret. Use it to assert
   * that your logs and error messages never contain one.
   */
  issuedSecrets(): Set<string> {
    const secrets = new Set<string>(this.retiredSecrets);
    for (const secret of this.context.store.secrets()) secrets.add(secret);
    for (const secret of this.context.devices.secrets()) secrets.add(secret);
    if (this.clientSecret) secrets.add(this.clientSecret);
    return secrets;
  }

  /** What FakeTwitch knows about an access token (owner, scopes, expiry, revoked), or `null` if it never issued it. */
  tokenInfo(accessToken: string): FakeTokenInfo | null {
    return this.context.store.tokenInfo(accessToken);
  }

  /** True when the access token was issued here, is not revoked and has not expired. */
  isValid(accessToken: string): boolean {
    return this.context.store.isValid(accessToken);
  }

  /**
   * Forgets every user but `defaultUser`, every token, code and device code,
   * the request log and queued failures, so one server can serve many tests.
   */
  reset(): void {
    for (const secret of this.issuedSecrets()) this.retiredSecrets.add(secret);
    const { options } = this.context;
    this.context.store = new FakeTwitchStore(options);
    this.context.devices = new FakeDeviceStore(options);
    this.context.store.addUser(this.defaultUser);
    this.context.browserUserId = this.defaultUser.userId;
    this.failures.clear();
    this.clearRequests();
    this.eventSub.sockets.forgetClosed();
  }
}
