import type { FakeTwitchRequest, FakeTwitchResponse, FakeTwitchRoute } from './fake-twitch.types.js';
import { isRegisteredRedirectUri, parseScopes, type FakeTwitchContext } from './fake-twitch.context.js';
import { consentPage, messagePage, redirect, userCodeForm } from './fake-twitch.pages.js';

/** Path the authorize page's buttons post to. */
export const AUTHORIZE_DECISION_PATH = '/oauth2/authorize/decision';
/** Path of the device activation page (`verification_uri`). */
export const ACTIVATE_PATH = '/activate';
const ACTIVATE_DECISION_PATH = '/activate/decision';

/**
 * The pages a person sees in a browser: the authorization-code consent page
 * and the device activation page. Both act for `context.browserUserId`, the
 * user FakeTwitch pretends is logged in, and always ask (as with `force_verify`).
 */
export function browserRoutes(context: FakeTwitchContext): FakeTwitchRoute[] {
  return [
    { method: 'GET', path: '/oauth2/authorize', endpoint: 'authorize', handle: (req) => showAuthorize(context, req) },
    { method: 'POST', path: AUTHORIZE_DECISION_PATH, endpoint: 'authorize', handle: (req) => decideAuthorize(context, req) },
    { method: 'GET', path: ACTIVATE_PATH, endpoint: 'authorize', handle: (req) => showActivate(context, req) },
    { method: 'POST', path: ACTIVATE_DECISION_PATH, endpoint: 'authorize', handle: (req) => decideActivate(context, req) },
  ];
}

/** Twitch shows an error page (no redirect) when it cannot trust the client or the redirect URI. */
function rejectClient(context: FakeTwitchContext, params: Record<string, string>): FakeTwitchResponse | null {
  if (params.client_id !== context.options.clientId) return messagePage(400, 'Invalid request', 'invalid client');
  if (!isRegisteredRedirectUri(context, params.redirect_uri)) {
    return messagePage(400, 'Invalid request', 'Parameter redirect_uri does not match registered URI');
  }
  return null;
}

/** `GET /oauth2/authorize`: the consent page. */
function showAuthorize(context: FakeTwitchContext, { params }: FakeTwitchRequest): FakeTwitchResponse {
  const rejected = rejectClient(context, params);
  if (rejected) return rejected;
  if (params.response_type !== 'code') {
    return redirectBack(params, {
      error: 'unsupported_response_type',
      error_description: 'FakeTwitch supports only response_type=code',
    });
  }
  const user = context.store.ensureUser(context.browserUserId);
  const fields: Record<string, string> = {
    client_id: params.client_id,
    redirect_uri: params.redirect_uri,
    scope: parseScopes(params.scope).join(' '),
  };
  if (params.state !== undefined) fields.state = params.state;
  return consentPage({
    title: 'Authorize FakeTwitch application',
    intro: `${user.login} is about to authorize ${params.client_id} to access their account.`,
    scopes: parseScopes(params.scope),
    action: AUTHORIZE_DECISION_PATH,
    fields,
  });
}

/** `POST /oauth2/authorize/decision`: back to the app with a code, or with `access_denied`. */
function decideAuthorize(context: FakeTwitchContext, { params }: FakeTwitchRequest): FakeTwitchResponse {
  const rejected = rejectClient(context, params);
  if (rejected) return rejected;
  if (params.decision !== 'authorize') {
    return redirectBack(params, { error: 'access_denied', error_description: 'The user denied you access' });
  }
  const scopes = parseScopes(params.scope);
  const code = context.store.issueCode(context.browserUserId, scopes, params.redirect_uri);
  return redirectBack(params, { code, scope: scopes.join(' ') });
}

/** Redirects to `redirect_uri` with `extra` and the untouched `state` (when one was sent). */
function redirectBack(params: Record<string, string>, extra: Record<string, string>): FakeTwitchResponse {
  const target = new URL(params.redirect_uri);
  for (const [name, value] of Object.entries(extra)) target.searchParams.set(name, value);
  if (params.state !== undefined) target.searchParams.set('state', params.state);
  return redirect(target.toString());
}

/** `GET /activate?device-code=<user code>`: the device consent page. */
function showActivate(context: FakeTwitchContext, { params }: FakeTwitchRequest): FakeTwitchResponse {
  const userCode = params['device-code'];
  if (!userCode) return userCodeForm(ACTIVATE_PATH);
  const device = context.devices.get(userCode);
  if (!device || device.status !== 'pending' || device.expiresAt <= context.options.now()) {
    return messagePage(404, 'Invalid code', 'This code is unknown, expired or already used.');
  }
  const user = context.store.ensureUser(context.browserUserId);
  return consentPage({
    title: 'Activate your device',
    intro: `${user.login} is about to connect a device to ${context.options.clientId}.`,
    scopes: device.scopes,
    action: ACTIVATE_DECISION_PATH,
    fields: { 'device-code': device.userCode },
  });
}

/** `POST /activate/decision`: approves or denies the device code. */
function decideActivate(context: FakeTwitchContext, { params }: FakeTwitchRequest): FakeTwitchResponse {
  const device = context.devices.get(params['device-code'] ?? '');
  if (!device || device.status !== 'pending' || device.expiresAt <= context.options.now()) {
    return messagePage(404, 'Invalid code', 'This code is unknown, expired or already used.');
  }
  if (params.decision !== 'authorize') {
    context.devices.deny(device.userCode);
    return messagePage(200, 'Access denied', 'The device was not connected.');
  }
  context.devices.approve(device.userCode, context.store.ensureUser(context.browserUserId).userId);
  return messagePage(200, 'Device connected', 'You can close this page and return to your device.');
}
