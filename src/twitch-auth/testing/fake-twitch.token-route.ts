import type { WireTokenResponse } from '../twitch/twitch-wire.types.js';
import type { FakeTwitchResponse, FakeTwitchRoute } from './fake-twitch.types.js';
import type { UserTokenPair } from './fake-twitch.store.js';
import { checkClientId, checkClientSecret, isRegisteredRedirectUri, parseScopes, type FakeTwitchContext } from './fake-twitch.context.js';
import { twitchErrorResponse } from './fake-twitch.server.js';

/** `grant_type` of the device-code flow's polls. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

type Params = Record<string, string>;

/** `POST /oauth2/token` for every grant Twitch supports. */
export function tokenRoute(context: FakeTwitchContext): FakeTwitchRoute {
  return {
    method: 'POST',
    path: '/oauth2/token',
    endpoint: 'token',
    handle: (request) => grantToken(context, request.params),
  };
}

function grantToken(context: FakeTwitchContext, params: Params): FakeTwitchResponse {
  const clientError = checkClientId(context, params.client_id);
  if (clientError) return clientError;
  switch (params.grant_type) {
    case 'authorization_code':
      return authorizationCodeGrant(context, params);
    case 'refresh_token':
      return refreshTokenGrant(context, params);
    case 'client_credentials':
      return clientCredentialsGrant(context, params);
    case DEVICE_CODE_GRANT_TYPE:
      return deviceCodeGrant(context, params);
    case undefined:
    case '':
      return twitchErrorResponse(400, 'missing grant_type');
    default:
      return twitchErrorResponse(400, 'unsupported grant type');
  }
}

function authorizationCodeGrant(context: FakeTwitchContext, params: Params): FakeTwitchResponse {
  const secretError = checkClientSecret(context, params.client_secret, true);
  if (secretError) return secretError;
  if (!isRegisteredRedirectUri(context, params.redirect_uri)) {
    return twitchErrorResponse(400, 'Parameter redirect_uri does not match registered URI');
  }
  const code = params.code ? context.store.peekCode(params.code) : undefined;
  if (!code) return twitchErrorResponse(400, 'Invalid authorization code');
  if (code.redirectUri !== params.redirect_uri) {
    return twitchErrorResponse(400, 'Parameter redirect_uri does not match registered URI');
  }
  context.store.consumeCode(params.code);
  return tokenAnswer(context.store.issueUserTokens(code.userId, code.scopes), true);
}

function refreshTokenGrant(context: FakeTwitchContext, params: Params): FakeTwitchResponse {
  const secretError = checkClientSecret(context, params.client_secret, true);
  if (secretError) return secretError;
  if (!params.refresh_token) return twitchErrorResponse(400, 'missing refresh token');
  const outcome = context.store.refresh(params.refresh_token);
  if (!outcome.ok) return twitchErrorResponse(400, 'Invalid refresh token');
  return tokenAnswer(outcome.tokens, true);
}

function clientCredentialsGrant(context: FakeTwitchContext, params: Params): FakeTwitchResponse {
  // A public client has no secret to prove itself with, so Twitch has no app token for it.
  if (context.options.clientSecret === null) return twitchErrorResponse(400, 'invalid client');
  const secretError = checkClientSecret(context, params.client_secret, true);
  if (secretError) return secretError;
  const ttl = context.options.appTokenTtlSeconds;
  const body: WireTokenResponse = {
    access_token: context.store.issueAppToken(parseScopes(params.scope), ttl),
    expires_in: ttl,
    token_type: 'bearer',
  };
  return { status: 200, body };
}

function deviceCodeGrant(context: FakeTwitchContext, params: Params): FakeTwitchResponse {
  if (!params.device_code) return twitchErrorResponse(400, 'missing device code');
  const outcome = context.devices.poll(params.device_code, params.client_id);
  if (!outcome.ok) return twitchErrorResponse(400, outcome.message);
  const tokens = context.store.issueUserTokens(outcome.userId, outcome.scopes);
  return tokenAnswer(tokens, outcome.scopes.length > 0);
}

/** Twitch's token body, keys in Twitch's order; `scope` left out when asked (device flow without scopes). */
function tokenAnswer(tokens: UserTokenPair, withScope: boolean): FakeTwitchResponse {
  const { accessToken, expiresIn, refreshToken, scopes } = tokens;
  const body: WireTokenResponse = withScope
    ? { access_token: accessToken, expires_in: expiresIn, refresh_token: refreshToken, scope: scopes, token_type: 'bearer' }
    : { access_token: accessToken, expires_in: expiresIn, refresh_token: refreshToken, token_type: 'bearer' };
  return { status: 200, body };
}
