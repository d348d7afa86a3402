// Types only: @twurple/auth is an optional peer, never loaded at run time by this module.
import type { AuthProvider } from '@twurple/auth';
import { Inject, Injectable } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import type { AccessToken } from '../tokens/access-token.js';
import { AppTokenProvider } from '../tokens/app-token.provider.js';
import { TokenService } from '../tokens/token.service.js';
import { MissingScopesError, TokenNotFoundError } from '../tokens/token.errors.js';

/** A token as twurple's `AccessToken` describes one (the same fields, declared here so the API reference stays ours). */
export interface TwurpleAccessToken {
  /** The access token. */
  accessToken: string;
  /** Always null: refresh tokens stay with the module. */
  refreshToken: string | null;
  /** The scopes the token holds. */
  scope: string[];
  /** Seconds from `obtainmentTimestamp` until it expires; null when it does not. */
  expiresIn: number | null;
  /** When the token was obtained, in epoch milliseconds. */
  obtainmentTimestamp: number;
}

/** A user token with the id of its user, as twurple's `AccessTokenWithUserId`. */
export interface AccessTokenWithUserId extends TwurpleAccessToken {
  /** The id of the user the token represents. */
  userId: string;
}

/** A token with its user's id unless it is an app token, as twurple's `AccessTokenMaybeWithUserId`. */
export interface AccessTokenMaybeWithUserId extends TwurpleAccessToken {
  /** The id of the user the token represents; absent for an app token. */
  userId?: string;
}

/** A user as twurple passes one: an id (string or number) or an object with an `id`. */
export type TwurpleUser = Parameters<AuthProvider['getCurrentScopesForUser']>[0];

/**
 * twurple's `AuthProvider` backed by this module's `TokenService`: tokens come
 * from the module's storage, refreshes go through its single-flight
 * refresher (one refresh across every caller and instance), and refresh
 * tokens never leave it (twurple gets `refreshToken: null`, so it cannot use
 * one up behind the module's back). Pass it to `new ApiClient({ authProvider })`,
 * `ChatClient` or the EventSub clients.
 *
 * twurple's own 401 retry calls `refreshAccessTokenForUser(user)` without
 * saying which token was rejected; this provider reports the token it last
 * handed out for that user, so a refresh happens only when that token is
 * still the stored one, and late callers get the token already refreshed.
 */
@Injectable()
export class TwitchAuthProvider implements AuthProvider {
  /** The application's client id. */
  readonly clientId: string;
  /** Scopes of each user's token as last handed to twurple, for the synchronous `getCurrentScopesForUser`. */
  private readonly scopes = new Map<string, readonly string[]>();
  /** The access token last handed out for each user by a get (not by a refresh): the one twurple's 401 is about. */
  private readonly handedOut = new Map<string, string>();
  /** The app token last handed out by a get (not by a forced replacement). */
  private appHandedOut: string | undefined;

  /** Built by Nest's injector. @internal */
  constructor(
    private readonly tokens: TokenService,
    private readonly appTokens: AppTokenProvider,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) options: ResolvedTwitchAuthOptions,
  ) {
    this.clientId = options.clientId;
  }

  /** The scopes of the user's token as last seen by this provider ([] before the first use). */
  getCurrentScopesForUser(user: TwurpleUser): string[] {
    return [...(this.scopes.get(userIdOf(user)) ?? [])];
  }

  /**
   * The user's token. Each scope set is satisfied when the token holds any one
   * of its scopes (twurple's meaning); otherwise `MissingScopesError` names the
   * first scope of each unsatisfied set.
   */
  async getAccessTokenForUser(user: TwurpleUser, ...scopeSets: Array<string[] | undefined>): Promise<AccessTokenWithUserId | null> {
    const userId = userIdOf(user);
    const token = await this.tokens.getUserToken(userId);
    return this.handOut(requireScopeSets(token, userId, scopeSets));
  }

  /** The token of the user holding `intent` (e.g. `chat` for twurple's `ChatClient`), with the same scope-set rule. */
  async getAccessTokenForIntent(intent: string, ...scopeSets: Array<string[] | undefined>): Promise<AccessTokenWithUserId | null> {
    const token = await this.tokens.getTokenForIntent(intent);
    return this.handOut(requireScopeSets(token, token.userId!, scopeSets));
  }

  /** The user's token when one is stored, the app token otherwise (or when no user is given). */
  async getAnyAccessToken(user?: TwurpleUser): Promise<AccessTokenMaybeWithUserId> {
    if (user !== undefined) {
      try {
        return this.handOut(await this.tokens.getUserToken(userIdOf(user)));
      } catch (error) {
        if (!(error instanceof TokenNotFoundError)) throw error;
      }
    }
    return this.handOutApp(await this.appTokens.get());
  }

  /**
   * The app access token. `forceNew` (twurple's answer to a 401) replaces the
   * app token last handed out through the provider's single flight; when it
   * was already replaced, the newer one is returned instead.
   */
  async getAppAccessToken(forceNew = false): Promise<TwurpleAccessToken> {
    if (forceNew) return toTwurple(await this.appTokens.replace(this.appHandedOut ?? this.appTokens.peek()?.accessToken));
    return this.handOutApp(await this.appTokens.get());
  }

  /**
   * A token other than the one twurple holds: reports the token last handed
   * out for this user as rejected (`TokenService.reportUnauthorized`), or
   * refreshes when none was handed out. Throws `ReauthorizationRequiredError`
   * when the grant is gone.
   */
  async refreshAccessTokenForUser(user: TwurpleUser): Promise<AccessTokenWithUserId> {
    const userId = userIdOf(user);
    const rejected = this.handedOut.get(userId);
    const token = rejected === undefined ? await this.tokens.refresh(userId) : await this.tokens.reportUnauthorized(userId, rejected);
    this.scopes.set(userId, token.scopes);
    return toTwurple(token) as AccessTokenWithUserId;
  }

  /** `refreshAccessTokenForUser` for the user holding `intent`. */
  async refreshAccessTokenForIntent(intent: string): Promise<AccessTokenWithUserId> {
    const token = await this.tokens.getTokenForIntent(intent);
    return this.refreshAccessTokenForUser(token.userId!);
  }

  private handOutApp(token: AccessToken): TwurpleAccessToken {
    this.appHandedOut = token.accessToken;
    return toTwurple(token);
  }

  private handOut(token: AccessToken): AccessTokenWithUserId {
    const userId = token.userId!;
    this.scopes.set(userId, token.scopes);
    this.handedOut.set(userId, token.accessToken);
    return toTwurple(token) as AccessTokenWithUserId;
  }
}

function userIdOf(user: TwurpleUser): string {
  return typeof user === 'object' ? user.id : String(user);
}

/** `token`, or `MissingScopesError` when a scope set has none of its scopes on it. */
function requireScopeSets(token: AccessToken, userId: string, scopeSets: Array<string[] | undefined>): AccessToken {
  const missing = scopeSets
    .filter((set): set is string[] => set !== undefined && set.length > 0 && !set.some((scope) => token.scopes.includes(scope)))
    .map((set) => set[0]);
  if (missing.length > 0) throw new MissingScopesError(userId, missing);
  return token;
}

/** twurple's token shape; the refresh token stays with the module. */
function toTwurple(token: AccessToken): AccessTokenMaybeWithUserId {
  const twurple: AccessTokenMaybeWithUserId = {
    accessToken: token.accessToken,
    refreshToken: null,
    scope: [...token.scopes],
    expiresIn: token.expiresAtMs === null ? null : Math.max(0, Math.floor((token.expiresAtMs - token.obtainedAtMs) / 1000)),
    obtainmentTimestamp: token.obtainedAtMs,
  };
  if (token.userId !== null) twurple.userId = token.userId;
  return twurple;
}
