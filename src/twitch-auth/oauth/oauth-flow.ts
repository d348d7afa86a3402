import { Inject, Injectable, Logger } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import { TwitchAuthEvent, TwitchAuthEventPublisher, type OAuthAuthorizedEvent, type OAuthFailedEvent } from '../twitch-auth.events.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import type { TokenInfo } from '../tokens/access-token.js';
import { TokenService } from '../tokens/token.service.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import {
  InvalidAuthorizationCodeError,
  InvalidClientError,
  MissingClientSecretError,
  RedirectUriMismatchError,
  TwitchRequestError,
} from '../twitch/twitch.errors.js';
import { OAuthStateError, type OAuthFailureReason } from './oauth.errors.js';
import { failurePage, keptGrantPage, successPage } from './oauth.pages.js';
import { chooseScopeSet, encodeLocation, parseForceVerify, parseReturnTo, parseScopesParam, queryValue } from './oauth-request.js';
import { OAUTH_MAX_RETURN_TO_LENGTH, OAuthStateService } from './oauth-state.service.js';

/** What the controller sends: a page or a redirect, plus cookies. Platform-neutral on purpose. */
export interface OAuthReply {
  status: number;
  /** Set for 302 answers. */
  location?: string;
  /** Set for pages. */
  html?: string;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  setCookies: string[];
}

/** Injection token of the mounted OAuth paths (the start path is linked from error pages). */
export const OAUTH_ROUTES = Symbol('OAUTH_ROUTES');

/** Where the built-in OAuth routes are mounted. */
export interface OAuthRoutePaths {
  path: string;
  callbackPath: string;
}

interface Failure {
  status: number;
  reason: OAuthFailureReason;
  title: string;
  message: string;
}

/**
 * The authorization-code flow behind the built-in routes, free of HTTP
 * framework types so Express and Fastify behave identically: `begin` answers
 * the start route, `complete` the callback.
 */
@Injectable()
export class OAuthFlow {
  private readonly logger = new Logger('TwitchAuth');

  constructor(
    private readonly tokens: TokenService,
    private readonly identity: TwitchIdentityClient,
    private readonly states: OAuthStateService,
    private readonly events: TwitchAuthEventPublisher,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Inject(OAUTH_ROUTES) private readonly routes: OAuthRoutePaths,
  ) {}

  /** `GET <path>?set=…|scopes=…&force_verify=true&return_to=/x`: a 302 to Twitch (for one of `oauth.scopeSets`) with a fresh state and its cookie. */
  begin(query: unknown): OAuthReply {
    const requested = parseScopesParam(queryValue(query, 'scopes'));
    if (!requested.ok) return this.page(400, 'Invalid scopes', requested.message, [], false);
    const scopes = chooseScopeSet(queryValue(query, 'set'), requested.value, this.options.oauth.scopeSets);
    if (!scopes.ok) return this.page(400, 'Scopes not offered', scopes.message, [], false);
    const returnTo = parseReturnTo(queryValue(query, 'return_to'), OAUTH_MAX_RETURN_TO_LENGTH);
    if (!returnTo.ok) return this.page(400, 'Invalid return_to', returnTo.message, [], false);
    if (!this.states.available) {
      this.logger.error('OAuth start refused: clientSecret is not configured; public clients authorize users with the device flow.');
      return this.page(
        500,
        'Browser authorization is not available',
        'This application has no client secret, so it cannot run the browser authorization flow. It authorizes users with the device flow instead.',
        [],
        false,
      );
    }
    const issued = this.states.issue({ returnTo: returnTo.value });
    const url = this.tokens.getAuthorizationUrl({
      scopes: scopes.value,
      forceVerify: parseForceVerify(queryValue(query, 'force_verify')),
      state: issued.state,
    });
    return { status: 302, location: url, setCookies: [issued.setCookie] };
  }

  /** `GET <callbackPath>`: verifies and redeems the state, exchanges the code, stores the token. */
  async complete(query: unknown, cookieHeader: string | undefined): Promise<OAuthReply> {
    const rawState = queryValue(query, 'state');
    const state = typeof rawState === 'string' ? rawState : undefined;
    const clear = this.states.available ? this.states.clearCookie(state) : null;
    const cookies = clear ? [clear] : [];

    const error = queryValue(query, 'error');
    if (error !== undefined) {
      if (error === 'access_denied') {
        return this.fail(
          {
            status: 403,
            reason: 'access_denied',
            title: 'Authorization declined',
            message: 'You declined to authorize this application on Twitch, so nothing was stored.',
          },
          cookies,
        );
      }
      return this.fail(
        {
          status: 400,
          reason: 'authorization_error',
          title: 'Authorization failed',
          message: 'Twitch reported an error instead of authorizing this application, so nothing was stored.',
        },
        cookies,
      );
    }
    const code = queryValue(query, 'code');
    if (typeof code !== 'string' || code === '') {
      return this.fail(
        {
          status: 400,
          reason: 'missing_code',
          title: 'Authorization incomplete',
          message: 'Twitch did not send an authorization code back, so nothing was stored.',
        },
        cookies,
      );
    }
    if (!this.states.available) {
      return this.fail(
        {
          status: 500,
          reason: 'configuration_error',
          title: 'Browser authorization is not available',
          message: 'This application has no client secret, so it cannot exchange authorization codes.',
        },
        cookies,
      );
    }

    let returnTo: string | null;
    try {
      returnTo = (await this.states.verify(state, cookieHeader)).returnTo;
    } catch (caught) {
      if (!(caught instanceof OAuthStateError)) return this.fail(this.internal(caught), cookies);
      return this.fail({ status: 403, reason: caught.reason, title: 'Authorization refused', message: caught.message }, cookies);
    }

    try {
      const stored = await this.storeUnlessNarrower(code);
      if ('kept' in stored) return { status: 200, html: keptGrantPage(stored.kept, stored.missing), setCookies: cookies };
      const info = stored.info;
      this.events.emit(TwitchAuthEvent.OAuthAuthorized, { info } satisfies OAuthAuthorizedEvent);
      this.logger.log(`OAuth: stored the token of user ${info.userId} (${info.login ?? 'unknown login'}).`);
      const location = returnTo ?? this.options.oauth.successRedirect;
      // Encoded again: a state issued by an app's own start route may carry a raw path (encoding is idempotent).
      if (location) return { status: 302, location: encodeLocation(location), setCookies: cookies };
      return { status: 200, html: successPage(info), setCookies: cookies };
    } catch (caught) {
      return this.fail(this.exchangeFailure(caught), cookies);
    }
  }

  /**
   * Exchanges the code and stores the token, unless the grant lacks scopes
   * the user's stored token has and `oauth.replaceNarrowerGrant` is off: a
   * link to `/oauth?scopes=chat:read` must not silently downgrade a bot's
   * `chat:read chat:edit` token. The unstored token is revoked (best effort).
   */
  private async storeUnlessNarrower(code: string): Promise<{ info: TokenInfo } | { kept: TokenInfo; missing: string[] }> {
    if (this.options.oauth.replaceNarrowerGrant) return { info: await this.tokens.exchangeCode(code) };
    const grant = await this.identity.exchangeCode(code);
    const validation = await this.identity.validate(grant.accessToken);
    const stored = validation.userId === null ? null : await this.tokens.getTokenInfo(validation.userId);
    const missing = stored ? stored.scopes.filter((scope) => !validation.scopes.includes(scope)) : [];
    if (stored && missing.length > 0) {
      this.logger.warn(
        `OAuth: kept the stored token of user ${stored.userId}; the new authorization lacked ${missing.join(' ')} (set oauth.replaceNarrowerGrant to replace it).`,
      );
      await this.identity.revoke(grant.accessToken).catch(() => undefined);
      return { kept: stored, missing };
    }
    return { info: await this.tokens.addUser(grant.accessToken, grant.refreshToken) };
  }

  private exchangeFailure(error: unknown): Failure {
    const startOver = 'Nothing was stored; start the authorization again.';
    if (
      error instanceof InvalidAuthorizationCodeError ||
      (error instanceof TwitchRequestError && !error.transient && error.endpoint === 'token' && !isConfigError(error))
    ) {
      return {
        status: 400,
        reason: 'code_rejected',
        title: 'Authorization code rejected',
        message: `Twitch rejected the authorization code (invalid, expired or already used). ${startOver}`,
      };
    }
    if (error instanceof TwitchRequestError && error.transient) {
      return {
        status: 502,
        reason: 'twitch_unavailable',
        title: 'Twitch is not answering',
        message: `Twitch could not be reached or failed while completing the authorization. ${startOver}`,
      };
    }
    if (isConfigError(error)) {
      this.logger.error(`OAuth callback: ${(error as Error).message}`);
      return {
        status: 500,
        reason: 'configuration_error',
        title: 'Application misconfigured',
        message: `This application's Twitch configuration is wrong; its logs say what to fix. ${startOver}`,
      };
    }
    return this.internal(error);
  }

  private internal(error: unknown): Failure {
    this.logger.error(`OAuth callback failed: ${error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error'}`);
    return {
      status: 500,
      reason: 'internal_error',
      title: 'Authorization failed',
      message: 'Something went wrong while storing the authorization; nothing was stored. Try again later.',
    };
  }

  private fail(failure: Failure, setCookies: string[]): OAuthReply {
    this.logger.warn(`OAuth callback refused (${failure.reason}): ${failure.message}`);
    this.events.emit(TwitchAuthEvent.OAuthFailed, { reason: failure.reason, message: failure.message } satisfies OAuthFailedEvent);
    return this.page(failure.status, failure.title, failure.message, setCookies, failure.status < 500 || failure.status === 502);
  }

  private page(status: number, title: string, message: string, setCookies: string[], offerRetry: boolean): OAuthReply {
    return { status, html: failurePage(title, message, offerRetry ? this.routes.path : null), setCookies };
  }
}

function isConfigError(error: unknown): boolean {
  return (
    error instanceof TwitchAuthConfigError ||
    error instanceof InvalidClientError ||
    error instanceof MissingClientSecretError ||
    error instanceof RedirectUriMismatchError
  );
}
