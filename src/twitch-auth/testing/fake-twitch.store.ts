import type { FakeTokenInfo, FakeUser, RefreshTokenReuse } from './fake-twitch.types.js';
import { randomToken } from './fake-twitch.random.js';

/** FakeTwitch's options with every default filled in. */
export interface ResolvedFakeTwitchOptions {
  port: number;
  clientId: string;
  clientSecret: string | null;
  accessTokenTtlSeconds: number;
  appTokenTtlSeconds: number;
  deviceCodeTtlSeconds: number;
  deviceIntervalSeconds: number;
  singleUseRefreshTokens: boolean;
  latencyMs: number;
  now: () => number;
  /** `null` = any redirect URI is accepted. */
  redirectUris: ReadonlySet<string> | null;
  /** `null` = Helix answers without rate limits. */
  helixRateLimit: { points: number; windowMs: number } | null;
  eventSubWelcomeTimeoutMs: number;
  eventSubReconnectGraceMs: number;
  eventSubMinKeepaliveSeconds: number;
}

/** Authorization codes live ten minutes, as on Twitch. */
const CODE_TTL_MS = 10 * 60 * 1000;

interface AccessTokenRecord extends FakeTokenInfo {
  /** The refresh token issued together with this access token, revoked with it. */
  refreshToken: string | null;
}

interface RefreshTokenRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  used: boolean;
  revoked: boolean;
}

interface CodeRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  redirectUri: string;
  expiresAt: number;
}

/** Everything one user authorized: the tokens revoked together when the grant goes. */
interface Grant {
  accessTokens: Set<string>;
  refreshTokens: Set<string>;
}

/** A freshly issued user token pair. */
export interface UserTokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds as the token endpoint reports them; 0 = never expires. */
  expiresIn: number;
  scopes: string[];
}

/** Outcome of presenting a refresh token. */
export type RefreshOutcome = { ok: true; tokens: UserTokenPair } | { ok: false; reused: boolean };

/**
 * Users, tokens, codes and grants, each indexed in a Map so that every
 * request is answered in constant time however many tokens exist. Nothing here
 * speaks HTTP: the routes translate outcomes into Twitch's wire answers.
 */
export class FakeTwitchStore {
  private readonly users = new Map<string, FakeUser>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly grants = new Map<string, Grant>();
  private nextUserId = 10000001;
  /** Every reuse of an already used refresh token, oldest first. */
  readonly reuses: RefreshTokenReuse[] = [];

  constructor(private readonly options: ResolvedFakeTwitchOptions) {}

  /** Every access token, refresh token and authorization code ever issued by this store. */
  *secrets(): IterableIterator<string> {
    yield* this.accessTokens.keys();
    yield* this.refreshTokens.keys();
    yield* this.codes.keys();
  }

  /** Adds a user (or updates an existing one's login) and returns it. */
  addUser(user: { userId?: string; login?: string } = {}): FakeUser {
    const userId = user.userId ?? this.freshUserId();
    const existing = this.users.get(userId);
    if (existing) {
      if (user.login !== undefined) existing.login = user.login;
      return { ...existing };
    }
    const created: FakeUser = { userId, login: user.login ?? `fake_user_${userId}` };
    this.users.set(userId, created);
    return { ...created };
  }

  /** The user with this id, created on first mention. */
  ensureUser(userId: string): FakeUser {
    return this.users.get(userId) ?? this.addUser({ userId });
  }

  /** The user with this id, if known. */
  getUser(userId: string): FakeUser | undefined {
    return this.users.get(userId);
  }

  /** The user with this login (case-insensitive), if known. */
  findUserByLogin(login: string): FakeUser | undefined {
    const wanted = login.toLowerCase();
    for (const user of this.users.values()) if (user.login.toLowerCase() === wanted) return user;
    return undefined;
  }

  /** Scopes the user has granted this app and not revoked: those of their live refresh tokens. */
  grantedScopes(userId: string): Set<string> {
    const scopes = new Set<string>();
    for (const token of this.grants.get(userId)?.refreshTokens ?? []) {
      const record = this.refreshTokens.get(token);
      if (record && !record.revoked) for (const scope of record.scopes) scopes.add(scope);
    }
    return scopes;
  }

  /** Issues a user access token and its refresh token; `ttlSeconds` 0 = never expires. */
  issueUserTokens(userId: string, scopes: string[], ttlSeconds = this.options.accessTokenTtlSeconds): UserTokenPair {
    this.ensureUser(userId);
    const accessToken = randomToken();
    const refreshToken = randomToken();
    const clientId = this.options.clientId;
    this.accessTokens.set(accessToken, {
      kind: 'user',
      userId,
      clientId,
      scopes: [...scopes],
      expiresAt: this.expiryOf(ttlSeconds),
      revoked: false,
      refreshToken,
    });
    this.refreshTokens.set(refreshToken, { userId, clientId, scopes: [...scopes], used: false, revoked: false });
    const grant = this.grantOf(userId);
    grant.accessTokens.add(accessToken);
    grant.refreshTokens.add(refreshToken);
    return { accessToken, refreshToken, expiresIn: ttlSeconds, scopes: [...scopes] };
  }

  /** Issues an app access token (client credentials); `ttlSeconds` 0 = never expires. */
  issueAppToken(scopes: string[], ttlSeconds = this.options.appTokenTtlSeconds): string {
    const accessToken = randomToken();
    this.accessTokens.set(accessToken, {
      kind: 'app',
      userId: null,
      clientId: this.options.clientId,
      scopes: [...scopes],
      expiresAt: this.expiryOf(ttlSeconds),
      revoked: false,
      refreshToken: null,
    });
    return accessToken;
  }

  /** Issues a single-use authorization code bound to `redirectUri`. */
  issueCode(userId: string, scopes: string[], redirectUri: string): string {
    this.ensureUser(userId);
    const code = randomToken();
    this.codes.set(code, {
      userId,
      clientId: this.options.clientId,
      scopes: [...scopes],
      redirectUri,
      expiresAt: this.options.now() + CODE_TTL_MS,
    });
    return code;
  }

  /** The live (unexpired, unused) code record, without consuming it. */
  peekCode(code: string): CodeRecord | undefined {
    const record = this.codes.get(code);
    if (!record) return undefined;
    if (record.expiresAt <= this.options.now()) {
      this.codes.delete(code);
      return undefined;
    }
    return record;
  }

  /** Uses a code up: it never works again. */
  consumeCode(code: string): void {
    this.codes.delete(code);
  }

  /**
   * Presents a refresh token. It yields a new access and refresh token; with
   * single-use refresh tokens, presenting one twice records the reuse and
   * revokes the user's whole grant. Earlier access tokens stay valid.
   */
  refresh(refreshToken: string): RefreshOutcome {
    const record = this.refreshTokens.get(refreshToken);
    if (!record || record.revoked || record.clientId !== this.options.clientId) return { ok: false, reused: false };
    if (record.used) {
      this.reuses.push({ userId: record.userId, at: this.options.now() });
      this.revokeGrant(record.userId);
      return { ok: false, reused: true };
    }
    if (this.options.singleUseRefreshTokens) record.used = true;
    return { ok: true, tokens: this.issueUserTokens(record.userId, record.scopes) };
  }

  /** Public view of an access token, or `null` when FakeTwitch never issued it. */
  tokenInfo(accessToken: string): FakeTokenInfo | null {
    const record = this.accessTokens.get(accessToken);
    if (!record) return null;
    const { kind, userId, clientId, scopes, expiresAt, revoked } = record;
    return { kind, userId, clientId, scopes: [...scopes], expiresAt, revoked };
  }

  /** True when the access token exists, is not revoked and has not expired. */
  isValid(accessToken: string): boolean {
    const record = this.accessTokens.get(accessToken);
    return record !== undefined && !record.revoked && !this.hasExpired(record.expiresAt);
  }

  /** Seconds left on a valid access token (at least 1), or 0 when it never expires. */
  secondsLeft(accessToken: string): number {
    const expiresAt = this.accessTokens.get(accessToken)?.expiresAt ?? null;
    if (expiresAt === null) return 0;
    return Math.max(1, Math.ceil((expiresAt - this.options.now()) / 1000));
  }

  /**
   * Revokes an access token together with the refresh token issued with it,
   * or a refresh token on its own. Returns false for unknown or already
   * revoked tokens.
   */
  revokeToken(token: string): boolean {
    const access = this.accessTokens.get(token);
    if (access) {
      if (access.revoked) return false;
      access.revoked = true;
      const paired = access.refreshToken ? this.refreshTokens.get(access.refreshToken) : undefined;
      if (paired) paired.revoked = true;
      return true;
    }
    const refresh = this.refreshTokens.get(token);
    if (!refresh || refresh.revoked) return false;
    refresh.revoked = true;
    return true;
  }

  /** Revokes every access and refresh token the user holds for this client. */
  revokeGrant(userId: string): void {
    const grant = this.grants.get(userId);
    if (!grant) return;
    for (const token of grant.accessTokens) this.accessTokens.get(token)!.revoked = true;
    for (const token of grant.refreshTokens) this.refreshTokens.get(token)!.revoked = true;
    this.grants.delete(userId);
  }

  /** Makes an access token expire now. Returns false for unknown tokens. */
  expireToken(accessToken: string): boolean {
    const record = this.accessTokens.get(accessToken);
    if (!record) return false;
    record.expiresAt = this.options.now();
    return true;
  }

  private expiryOf(ttlSeconds: number): number | null {
    return ttlSeconds === 0 ? null : this.options.now() + ttlSeconds * 1000;
  }

  private hasExpired(expiresAt: number | null): boolean {
    return expiresAt !== null && expiresAt <= this.options.now();
  }

  private grantOf(userId: string): Grant {
    let grant = this.grants.get(userId);
    if (!grant) {
      grant = { accessTokens: new Set(), refreshTokens: new Set() };
      this.grants.set(userId, grant);
    }
    return grant;
  }

  private freshUserId(): string {
    while (this.users.has(String(this.nextUserId))) this.nextUserId++;
    return String(this.nextUserId++);
  }
}
