import { inspect } from 'node:util';
import type { TokenGrant, TokenValidation, DeviceCode } from './twitch.types.js';
import type { WireDeviceCodeResponse, WireTokenResponse, WireValidateResponse } from './twitch-wire.types.js';
import { errorMessageOf, sendTwitchRequest, type TwitchHttpResponse } from './twitch-http.js';
import {
  AuthorizationPendingError,
  DeviceAccessDeniedError,
  DeviceCodeExpiredError,
  InvalidAccessTokenError,
  InvalidAuthorizationCodeError,
  InvalidClientError,
  InvalidDeviceCodeError,
  InvalidRefreshTokenError,
  MissingClientSecretError,
  RedirectUriMismatchError,
  SlowDownError,
  TwitchRequestError,
  TwitchUnexpectedResponseError,
  type TwitchEndpoint,
} from './twitch.errors.js';

/** What the identity client needs to know about the application. */
export interface TwitchIdentityClientConfig {
  clientId: string;
  /** Null for public clients. */
  clientSecret: string | null;
  redirectUri: string;
  /** e.g. `https://id.twitch.tv`, without trailing slash. */
  idBaseUrl: string;
  timeoutMs: number;
}

/** Parameters of the browser authorization URL. */
export interface AuthorizeUrlParams {
  scopes: readonly string[];
  state: string;
  forceVerify?: boolean;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * Client of Twitch's identity server (`id.twitch.tv`): every OAuth endpoint.
 * Secrets travel in form bodies, never in URLs. Errors are typed: see
 * `TwitchRequestError.transient`.
 */
export class TwitchIdentityClient {
  constructor(private readonly config: TwitchIdentityClientConfig) {}

  /** Inspection shows where the client talks to, never the client secret. */
  [inspect.custom](): string {
    return `TwitchIdentityClient { clientId: '${this.config.clientId}', idBaseUrl: '${this.config.idBaseUrl}' }`;
  }

  /** The page the user's browser is sent to for the authorization-code flow. */
  authorizeUrl(params: AuthorizeUrlParams): string {
    const url = new URL(`${this.config.idBaseUrl}/oauth2/authorize`);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', params.scopes.join(' '));
    url.searchParams.set('state', params.state);
    if (params.forceVerify) url.searchParams.set('force_verify', 'true');
    return url.toString();
  }

  /** Exchanges an authorization code (confidential clients only). */
  async exchangeCode(code: string): Promise<TokenGrant> {
    return this.grant({ grant_type: 'authorization_code', code, redirect_uri: this.config.redirectUri, ...this.secret() });
  }

  /** Trades a refresh token for a new access token and (possibly new) refresh token. `signal` stops waiting for the answer. */
  async refresh(refreshToken: string, signal?: AbortSignal): Promise<TokenGrant> {
    return this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken, ...this.secret() }, signal);
  }

  /** Gets an app access token (client credentials); needs the client secret. */
  async clientCredentials(): Promise<TokenGrant> {
    return this.grant({ grant_type: 'client_credentials', ...this.secret() });
  }

  /** Starts the device-code flow for `scopes`. */
  async startDeviceFlow(scopes: readonly string[]): Promise<DeviceCode> {
    const response = await this.post('device', '/oauth2/device', { client_id: this.config.clientId, scopes: scopes.join(' ') });
    if (response.status !== 200) throw this.failure('device', response);
    const wire = response.body as WireDeviceCodeResponse;
    if (!wire || typeof wire.device_code !== 'string' || typeof wire.user_code !== 'string') {
      throw new TwitchUnexpectedResponseError({
        status: response.status,
        twitchMessage: 'malformed device code response',
        endpoint: 'device',
      });
    }
    return {
      deviceCode: wire.device_code,
      userCode: wire.user_code,
      verificationUri: wire.verification_uri,
      interval: wire.interval,
      expiresIn: wire.expires_in,
      scopes: [...scopes],
    };
  }

  /**
   * Polls once for the device flow's token. Throws `AuthorizationPendingError`,
   * `SlowDownError`, `InvalidDeviceCodeError`, `DeviceAccessDeniedError` or
   * `DeviceCodeExpiredError` until the user acts.
   */
  async pollDeviceToken(deviceCode: string, scopes: readonly string[], signal?: AbortSignal): Promise<TokenGrant> {
    return this.grant({ grant_type: DEVICE_GRANT, device_code: deviceCode, scopes: scopes.join(' ') }, signal);
  }

  /** Asks Twitch whether a token is valid and what it carries. `signal` stops waiting for the answer. */
  async validate(accessToken: string, signal?: AbortSignal): Promise<TokenValidation> {
    const response = await sendTwitchRequest({
      endpoint: 'validate',
      method: 'GET',
      url: `${this.config.idBaseUrl}/oauth2/validate`,
      headers: { Authorization: `OAuth ${accessToken}` },
      timeoutMs: this.config.timeoutMs,
      signal,
    });
    if (response.status !== 200) throw this.failure('validate', response);
    const wire = response.body as WireValidateResponse;
    if (!wire || typeof wire.client_id !== 'string') {
      throw new TwitchUnexpectedResponseError({ status: 200, twitchMessage: 'malformed validate response', endpoint: 'validate' });
    }
    return {
      clientId: wire.client_id,
      userId: wire.user_id ?? null,
      login: wire.login ?? null,
      scopes: wire.scopes ?? [],
      expiresIn: typeof wire.expires_in === 'number' ? wire.expires_in : 0,
    };
  }

  /** Revokes an access token. An already-invalid token counts as revoked. `signal` stops waiting for the answer. */
  async revoke(accessToken: string, signal?: AbortSignal): Promise<void> {
    const response = await this.post('revoke', '/oauth2/revoke', { client_id: this.config.clientId, token: accessToken }, signal);
    if (response.status === 200) return;
    const error = this.failure('revoke', response);
    if (error instanceof InvalidAccessTokenError) return;
    throw error;
  }

  private secret(): Record<string, string> {
    return this.config.clientSecret === null ? {} : { client_secret: this.config.clientSecret };
  }

  private async grant(params: Record<string, string>, signal?: AbortSignal): Promise<TokenGrant> {
    const response = await this.post('token', '/oauth2/token', { client_id: this.config.clientId, ...params }, signal);
    if (response.status !== 200) throw this.failure('token', response, params.grant_type);
    const wire = response.body as WireTokenResponse;
    if (!wire || typeof wire.access_token !== 'string' || wire.access_token === '') {
      throw new TwitchUnexpectedResponseError({ status: 200, twitchMessage: 'malformed token response', endpoint: 'token' });
    }
    return {
      accessToken: wire.access_token,
      refreshToken: typeof wire.refresh_token === 'string' && wire.refresh_token !== '' ? wire.refresh_token : null,
      expiresIn: typeof wire.expires_in === 'number' ? wire.expires_in : 0,
      scopes: Array.isArray(wire.scope) ? wire.scope : [],
    };
  }

  private post(endpoint: TwitchEndpoint, path: string, form: Record<string, string>, signal?: AbortSignal): Promise<TwitchHttpResponse> {
    return sendTwitchRequest({
      endpoint,
      method: 'POST',
      url: `${this.config.idBaseUrl}${path}`,
      form,
      timeoutMs: this.config.timeoutMs,
      signal,
    });
  }

  /** Maps a non-2xx answer (5xx/429 were already thrown) to the typed error for its meaning. */
  private failure(endpoint: TwitchEndpoint, response: TwitchHttpResponse, grantType?: string): TwitchRequestError {
    const twitchMessage = errorMessageOf(response.body);
    const details = { status: response.status, twitchMessage, endpoint };
    const message = (twitchMessage ?? '').toLowerCase();
    if (message.includes('invalid client secret') || message === 'invalid client' || message.includes('client does not exist')) {
      return new InvalidClientError(details);
    }
    if (message.includes('missing client secret')) return new MissingClientSecretError(details);
    if (message.includes('redirect_uri does not match')) return new RedirectUriMismatchError(details);
    if (grantType === DEVICE_GRANT) {
      if (message === 'authorization_pending') return new AuthorizationPendingError(details);
      if (message === 'slow_down') return new SlowDownError(details);
      if (message.includes('invalid device code')) return new InvalidDeviceCodeError(details);
      if (message === 'access_denied') return new DeviceAccessDeniedError(details);
      if (message === 'expired_token' || message.includes('expired')) return new DeviceCodeExpiredError(details);
    }
    if (grantType === 'refresh_token' && message.includes('invalid refresh token')) {
      return new InvalidRefreshTokenError(details);
    }
    if (grantType === 'authorization_code' && message.includes('invalid authorization code')) {
      return new InvalidAuthorizationCodeError(details);
    }
    if (endpoint === 'validate' && response.status === 401) return new InvalidAccessTokenError(details);
    if (endpoint === 'revoke' && response.status === 400 && message.includes('invalid token')) return new InvalidAccessTokenError(details);
    return new TwitchUnexpectedResponseError(details);
  }
}
