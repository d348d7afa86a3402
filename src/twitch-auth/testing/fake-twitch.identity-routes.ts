import type { WireDeviceCodeResponse, WireValidateResponse } from '../twitch/twitch-wire.types.js';
import type { FakeTwitchRequest, FakeTwitchResponse, FakeTwitchRoute } from './fake-twitch.types.js';
import { checkClientId, parseScopes, type FakeTwitchContext } from './fake-twitch.context.js';
import { twitchErrorResponse } from './fake-twitch.server.js';
import { tokenRoute } from './fake-twitch.token-route.js';

/** Every route of Twitch's identity server that answers JSON: token, device, validate, revoke. */
export function identityRoutes(context: FakeTwitchContext): FakeTwitchRoute[] {
  return [
    tokenRoute(context),
    { method: 'POST', path: '/oauth2/device', endpoint: 'device', handle: (request) => startDeviceFlow(context, request) },
    { method: 'GET', path: '/oauth2/validate', endpoint: 'validate', handle: (request) => validate(context, request) },
    { method: 'POST', path: '/oauth2/revoke', endpoint: 'revoke', handle: (request) => revoke(context, request) },
  ];
}

/** `POST /oauth2/device`: starts a device-code flow. */
function startDeviceFlow(context: FakeTwitchContext, { params }: FakeTwitchRequest): FakeTwitchResponse {
  const clientError = checkClientId(context, params.client_id);
  if (clientError) return clientError;
  const device = context.devices.start(parseScopes(params.scopes));
  const body: WireDeviceCodeResponse = {
    device_code: device.deviceCode,
    expires_in: context.options.deviceCodeTtlSeconds,
    interval: context.options.deviceIntervalSeconds,
    user_code: device.userCode,
    verification_uri: `${context.url()}/activate?device-code=${device.userCode}`,
  };
  return { status: 200, body };
}

/**
 * `GET /oauth2/validate` with `Authorization: OAuth <token>` (Twitch accepts
 * `Bearer` too). App tokens carry no `login`/`user_id`, and their `scopes` is
 * `null` when they hold none; user tokens always list theirs.
 */
function validate(context: FakeTwitchContext, { headers }: FakeTwitchRequest): FakeTwitchResponse {
  const match = /^(?:OAuth|Bearer)\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (!match) return twitchErrorResponse(401, 'missing authorization token');
  const token = match[1];
  const { store } = context;
  const info = store.tokenInfo(token);
  if (!info || !store.isValid(token)) return twitchErrorResponse(401, 'invalid access token');
  const expiresIn = store.secondsLeft(token);
  if (info.kind === 'app') {
    const body: WireValidateResponse = {
      client_id: info.clientId,
      scopes: info.scopes.length > 0 ? info.scopes : null,
      expires_in: expiresIn,
    };
    return { status: 200, body };
  }
  const userId = info.userId!;
  const body: WireValidateResponse = {
    client_id: info.clientId,
    login: store.getUser(userId)?.login ?? '',
    scopes: info.scopes,
    user_id: userId,
    expires_in: expiresIn,
  };
  return { status: 200, body };
}

/** `POST /oauth2/revoke`: 200 with an empty body, or Twitch's errors. */
function revoke(context: FakeTwitchContext, { params }: FakeTwitchRequest): FakeTwitchResponse {
  if (!params.client_id) return twitchErrorResponse(400, 'missing client id');
  if (params.client_id !== context.options.clientId) return twitchErrorResponse(404, 'client does not exist');
  if (!params.token) return twitchErrorResponse(400, 'missing oauth token');
  return context.store.revokeToken(params.token) ? { status: 200 } : twitchErrorResponse(400, 'Invalid token');
}
