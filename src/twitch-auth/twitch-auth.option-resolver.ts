import { inspect } from 'node:util';
import { TwitchAuthConfigError } from './twitch-auth.errors.js';
import { checkConduitWebhook, resolveConduitOptions } from './eventsub/eventsub-conduit.options.js';
import { resolveWebSocketLeaseOptions } from './eventsub/eventsub-websocket.lease-options.js';
import { checkTickSeconds, requestTimeoutMs, timerMs, timerSeconds } from './twitch-auth.option-bounds.js';
import {
  checkEventSubSecret,
  checkScopes,
  eventSubMount,
  nonNegative,
  normalisePath,
  optionalText,
  positive,
  positiveInteger,
  requireHttpUrl,
  requireText,
  requireWebSocketUrl,
  stripSlash,
} from './twitch-auth.option-checks.js';
import type { BotAccountOptions, EventSubOptions, ResolvedTwitchAuthOptions, TwitchAuthModuleOptions } from './twitch-auth.options.js';

/** Fills defaults and checks every option, throwing `TwitchAuthConfigError` naming the first bad one. */
export function resolveTwitchAuthOptions(options: TwitchAuthModuleOptions): ResolvedTwitchAuthOptions {
  if (!options || typeof options !== 'object') throw new TwitchAuthConfigError('TwitchAuthModule options must be an object.');
  const clientId = requireText(options.clientId, 'clientId', 'the Client ID of your app in the Twitch developer console');
  const clientSecret = optionalText(options.clientSecret, 'clientSecret');
  const redirectUri = options.redirectUri ?? 'http://localhost:3000/oauth/callback';
  requireHttpUrl(redirectUri, 'redirectUri');
  const defaultScopes = options.defaultScopes ?? [];
  checkScopes(defaultScopes, 'defaultScopes');

  const oauth = {
    enabled: options.oauth?.enabled ?? true,
    path: normalisePath(options.oauth?.path ?? '/oauth', 'oauth.path'),
    callbackPath: normalisePath(options.oauth?.callbackPath ?? new URL(redirectUri).pathname, 'oauth.callbackPath'),
    stateTtlSeconds: timerSeconds(positive(options.oauth?.stateTtlSeconds ?? 600, 'oauth.stateTtlSeconds'), 'oauth.stateTtlSeconds'),
    successRedirect: options.oauth?.successRedirect ?? null,
    replaceNarrowerGrant: options.oauth?.replaceNarrowerGrant ?? false,
    scopeSets: resolveScopeSets(options.oauth?.scopeSets, defaultScopes),
  };

  let eventSub: ResolvedTwitchAuthOptions['eventSub'] = null;
  const eventSubWebSocket = resolveEventSubWebSocket(options.eventSub);
  if (options.eventSub && usesWebhooks(options.eventSub)) {
    const e = options.eventSub as EventSubOptions & { secret: string };
    checkEventSubSecret(e.secret, 'eventSub.secret');
    (e.previousSecrets ?? []).forEach((s, i) => checkEventSubSecret(s, `eventSub.previousSecrets[${i}]`));
    if (e.publicUrl !== undefined) requireHttpUrl(e.publicUrl, 'eventSub.publicUrl');
    eventSub = {
      secret: e.secret,
      previousSecrets: e.previousSecrets ?? [],
      path: normalisePath(e.path ?? '/eventsub/callback', 'eventSub.path'),
      mount: eventSubMount(e.mount, 'eventSub.mount'),
      publicUrl: e.publicUrl ? e.publicUrl.replace(/\/+$/, '') : null,
      maxMessageAgeSeconds: timerSeconds(
        positive(e.maxMessageAgeSeconds ?? 600, 'eventSub.maxMessageAgeSeconds'),
        'eventSub.maxMessageAgeSeconds',
      ),
      bodyTimeoutMs: timerMs(positive(e.bodyTimeoutMs ?? 10_000, 'eventSub.bodyTimeoutMs'), 'eventSub.bodyTimeoutMs'),
    };
  }

  const m = options.maintenance ?? {};
  const maintenance = {
    enabled: m.enabled ?? true,
    tickSeconds: positive(m.tickSeconds ?? 60, 'maintenance.tickSeconds'),
    refreshBeforeExpirySeconds: timerSeconds(
      nonNegative(m.refreshBeforeExpirySeconds ?? 600, 'maintenance.refreshBeforeExpirySeconds'),
      'maintenance.refreshBeforeExpirySeconds',
    ),
    validateEverySeconds: positive(m.validateEverySeconds ?? 3600, 'maintenance.validateEverySeconds'),
    concurrency: positiveInteger(m.concurrency ?? 8, 'maintenance.concurrency'),
  };
  if (maintenance.validateEverySeconds > 3600) {
    throw new TwitchAuthConfigError(
      `maintenance.validateEverySeconds is ${maintenance.validateEverySeconds}; Twitch requires every token to be validated at least hourly, so it must be at most 3600.`,
    );
  }
  checkTickSeconds(maintenance.tickSeconds, maintenance.validateEverySeconds);

  let token: ResolvedTwitchAuthOptions['token'] = null;
  if (options.token) {
    token = {
      accessToken: requireText(options.token.accessToken, 'token.accessToken', 'the access token to seed in simple mode'),
      refreshToken: optionalText(options.token.refreshToken, 'token.refreshToken'),
    };
  }

  const bot = resolveBot(options.bot, oauth);

  const t = options.twitch ?? {};
  const twitch = {
    idBaseUrl: stripSlash(t.idBaseUrl ?? 'https://id.twitch.tv'),
    helixBaseUrl: stripSlash(t.helixBaseUrl ?? 'https://api.twitch.tv/helix'),
    timeoutMs: requestTimeoutMs(positive(t.timeoutMs ?? 10_000, 'twitch.timeoutMs')),
    eventSubWebSocketUrl: t.eventSubWebSocketUrl ?? 'wss://eventsub.wss.twitch.tv/ws',
  };
  requireWebSocketUrl(twitch.eventSubWebSocketUrl, 'twitch.eventSubWebSocketUrl');
  requireHttpUrl(twitch.idBaseUrl, 'twitch.idBaseUrl');
  requireHttpUrl(twitch.helixBaseUrl, 'twitch.helixBaseUrl');

  const eventSubConduit = resolveConduitOptions(options.eventSub?.conduit);
  checkConduitWebhook(eventSubConduit, eventSub);
  const encryption = resolveEncryption(options);
  const resolved = {
    clientId,
    clientSecret,
    redirectUri,
    defaultScopes,
    ...encryption,
    oauth,
    eventSub,
    eventSubWebSocket,
    eventSubConduit,
    maintenance,
    token,
    bot,
    twitch,
  };
  // Every provider holds these options: inspecting one, however deep, must not print the secrets in them.
  Object.defineProperty(resolved, inspect.custom, { value: () => withSecretsHidden(resolved) });
  Object.defineProperty(resolved, 'toJSON', { value: () => withSecretsHidden(resolved) });
  return resolved;
}

/**
 * The `bot` option checked. With the OAuth routes on, its scopes must be a
 * scope set, so the prompt can offer `/oauth?set=…`: an existing set with the
 * same scopes is used, else they become the `bot` set.
 */
function resolveBot(
  bot: BotAccountOptions | undefined,
  oauth: { enabled: boolean; scopeSets: Record<string, string[]> },
): ResolvedTwitchAuthOptions['bot'] {
  if (bot === undefined) return null;
  if (!bot || typeof bot !== 'object')
    throw new TwitchAuthConfigError("bot must be an object, e.g. { intent: 'chat', scopes: ['user:read:chat'] }.");
  const intent = requireText(bot.intent, 'bot.intent', "the role the bot's token serves, e.g. 'chat'");
  checkScopes(bot.scopes, 'bot.scopes');
  const scopes = [...new Set(bot.scopes)];
  if (!oauth.enabled) return { intent, scopes, scopeSet: null };
  const same = (set: string[]) => set.length === scopes.length && scopes.every((scope) => set.includes(scope));
  const existing = Object.entries(oauth.scopeSets).find(([, set]) => same(set));
  if (existing) return { intent, scopes, scopeSet: existing[0] };
  if (oauth.scopeSets.bot) {
    throw new TwitchAuthConfigError('oauth.scopeSets.bot differs from bot.scopes: give them the same scopes, or rename that scope set.');
  }
  oauth.scopeSets.bot = scopes;
  return { intent, scopes, scopeSet: 'bot' };
}

/** The encryption options; the keys' format is checked where they are parsed (`TokenCipher`, at boot). */
function resolveEncryption(options: TwitchAuthModuleOptions) {
  const previousEncryptionKeys = options.previousEncryptionKeys ?? [];
  if (!Array.isArray(previousEncryptionKeys)) throw new TwitchAuthConfigError('previousEncryptionKeys must be an array of keys (strings).');
  const acceptPlaintextTokens = options.acceptPlaintextTokens ?? false;
  if (typeof acceptPlaintextTokens !== 'boolean') throw new TwitchAuthConfigError('acceptPlaintextTokens must be true or false.');
  return { encryptionKey: optionalText(options.encryptionKey, 'encryptionKey'), previousEncryptionKeys, acceptPlaintextTokens };
}

/** What inspection and JSON show of resolved options: each secret that is set reads `[hidden]`. */
function withSecretsHidden(options: ResolvedTwitchAuthOptions): Record<string, unknown> {
  const hide = (secret: string | null) => (secret === null ? null : HIDDEN);
  return {
    ...options,
    clientSecret: hide(options.clientSecret),
    encryptionKey: hide(options.encryptionKey),
    previousEncryptionKeys: options.previousEncryptionKeys.map(() => HIDDEN),
    eventSub: options.eventSub && {
      ...options.eventSub,
      secret: HIDDEN,
      previousSecrets: options.eventSub.previousSecrets.map(() => HIDDEN),
    },
    token: options.token && { accessToken: HIDDEN, refreshToken: hide(options.token.refreshToken) },
  };
}

const HIDDEN = '[hidden]';

const SCOPE_SET_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** `oauth.scopeSets` checked, with `default` filled from `defaultScopes` when absent. */
function resolveScopeSets(sets: Record<string, string[]> | undefined, defaultScopes: string[]): Record<string, string[]> {
  if (sets !== undefined && (sets === null || typeof sets !== 'object' || Array.isArray(sets))) {
    throw new TwitchAuthConfigError('oauth.scopeSets must be an object of named scope lists, e.g. { bot: ["chat:read", "chat:edit"] }.');
  }
  const resolved: Record<string, string[]> = { default: [...new Set(defaultScopes)] };
  for (const [name, scopes] of Object.entries(sets ?? {})) {
    if (!SCOPE_SET_NAME.test(name)) {
      throw new TwitchAuthConfigError(`oauth.scopeSets: "${name.slice(0, 64)}" is not a set name (letters, digits, _ and -, at most 64).`);
    }
    checkScopes(scopes, `oauth.scopeSets.${name}`);
    resolved[name] = [...new Set(scopes)];
  }
  return resolved;
}

/** Any webhook option (or a secret) means webhooks are wanted, and then the secret is required. */
function usesWebhooks(e: EventSubOptions): boolean {
  return ['secret', 'previousSecrets', 'path', 'mount', 'publicUrl', 'bodyTimeoutMs'].some(
    (key) => e[key as keyof EventSubOptions] !== undefined,
  );
}

function resolveEventSubWebSocket(e: EventSubOptions | undefined): ResolvedTwitchAuthOptions['eventSubWebSocket'] {
  const keepalive = e?.webSocket?.keepaliveTimeoutSeconds ?? 10;
  if (typeof keepalive !== 'number' || !Number.isInteger(keepalive) || keepalive < 10 || keepalive > 600) {
    throw new TwitchAuthConfigError(
      `eventSub.webSocket.keepaliveTimeoutSeconds must be a whole number from 10 to 600 (Twitch's range); got ${String(keepalive)}.`,
    );
  }
  const maxAge = timerSeconds(positive(e?.maxMessageAgeSeconds ?? 600, 'eventSub.maxMessageAgeSeconds'), 'eventSub.maxMessageAgeSeconds');
  const restoreAtBoot = e?.webSocket?.restoreAtBoot ?? true;
  if (typeof restoreAtBoot !== 'boolean') throw new TwitchAuthConfigError('eventSub.webSocket.restoreAtBoot must be true or false.');
  return { keepaliveTimeoutSeconds: keepalive, maxMessageAgeSeconds: maxAge, restoreAtBoot, ...resolveWebSocketLeaseOptions(e?.webSocket) };
}
