import { TwitchAuthError } from '../twitch-auth.errors.js';

/** Which Twitch endpoint a request went to, for error messages (never a URL with parameters). */
export type TwitchEndpoint = 'token' | 'device' | 'validate' | 'revoke' | 'helix';

/**
 * A request to Twitch failed. `transient` tells whether trying again later can
 * help (network, timeout, 5xx, 429) or whether something must change first
 * (a revoked grant, a wrong client secret...).
 */
export class TwitchRequestError extends TwitchAuthError {
  /** True when the same request may succeed later: retry with backoff, keep stored tokens. */
  readonly transient: boolean;
  /** HTTP status, when Twitch answered at all. */
  readonly status: number | null;
  /** Twitch's own `message` field, when it sent one. */
  readonly twitchMessage: string | null;
  readonly endpoint: TwitchEndpoint;

  constructor(
    message: string,
    details: { transient: boolean; status: number | null; twitchMessage: string | null; endpoint: TwitchEndpoint },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.transient = details.transient;
    this.status = details.status;
    this.twitchMessage = details.twitchMessage;
    this.endpoint = details.endpoint;
  }
}

type Details = ConstructorParameters<typeof TwitchRequestError>[1];
/** The details of a subclass that decides `transient` itself. @inline */
type PartialDetails = Omit<Details, 'transient'>;

/** Twitch could not be reached (DNS, refused, reset). Transient. */
export class TwitchNetworkError extends TwitchRequestError {
  constructor(endpoint: TwitchEndpoint, cause: unknown) {
    super(
      `Could not reach Twitch (${endpoint} endpoint): ${describeCause(cause)}. Will be retried.`,
      {
        transient: true,
        status: null,
        twitchMessage: null,
        endpoint,
      },
      { cause },
    );
  }
}

/** Twitch did not answer within `twitch.timeoutMs`. Transient. */
export class TwitchTimeoutError extends TwitchRequestError {
  constructor(endpoint: TwitchEndpoint, timeoutMs: number) {
    super(`Twitch did not answer within ${timeoutMs} ms (${endpoint} endpoint). Will be retried.`, {
      transient: true,
      status: null,
      twitchMessage: null,
      endpoint,
    });
  }
}

/** Twitch answered 5xx. Transient. */
export class TwitchServerError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super(`Twitch answered ${details.status} on the ${details.endpoint} endpoint (a Twitch-side failure). Will be retried.`, {
      ...details,
      transient: true,
    });
  }
}

/** Twitch answered 429. Transient; `retryAfterMs` comes from `Ratelimit-Reset` when present. */
export class TwitchRateLimitError extends TwitchRequestError {
  constructor(
    details: PartialDetails,
    readonly retryAfterMs: number | null,
  ) {
    super(`Twitch rate-limited the ${details.endpoint} request (429). Will be retried later.`, { ...details, transient: true });
  }
}

/** The refresh token is no longer valid: the user must authorize again. Permanent. */
export class InvalidRefreshTokenError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('Twitch rejected the refresh token (it was revoked or already used): the user must authorize the app again.', {
      ...details,
      transient: false,
    });
  }
}

/** The client id or client secret is wrong. Permanent; fix the configuration. */
export class InvalidClientError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super(
      `Twitch rejected the application credentials ("${details.twitchMessage ?? 'invalid client'}"): check clientId and clientSecret.`,
      { ...details, transient: false },
    );
  }
}

/** A confidential-client request was made without a client secret. Permanent. */
export class MissingClientSecretError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('Twitch requires a client secret for this request: set clientSecret, or register the app as a public client.', {
      ...details,
      transient: false,
    });
  }
}

/** The authorization code is invalid, expired or was already used. Permanent. */
export class InvalidAuthorizationCodeError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('Twitch rejected the authorization code (invalid, expired or already used): start the authorization again.', {
      ...details,
      transient: false,
    });
  }
}

/** The redirect URI differs from the one registered at Twitch. Permanent. */
export class RedirectUriMismatchError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super(
      'Twitch says redirect_uri does not match the registered URI: set redirectUri to exactly the OAuth Redirect URL of the app in the Twitch developer console.',
      { ...details, transient: false },
    );
  }
}

/** The access token is invalid (expired or revoked). Permanent for that token. */
export class InvalidAccessTokenError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('Twitch says the access token is invalid (expired or revoked).', { ...details, transient: false });
  }
}

/** Device flow: the user has not acted yet; keep polling. */
export class AuthorizationPendingError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('The user has not yet approved the device code.', { ...details, transient: false });
  }
}

/** Device flow: polling too fast; add 5 s to the interval (RFC 8628). */
export class SlowDownError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('Twitch asked to poll the device code more slowly.', { ...details, transient: false });
  }
}

/** Device flow: Twitch does not know the device code (also sent briefly before the user acts). */
export class InvalidDeviceCodeError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('Twitch does not recognise the device code.', { ...details, transient: false });
  }
}

/** Device flow: the user declined. */
export class DeviceAccessDeniedError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('The user declined the device authorization.', { ...details, transient: false });
  }
}

/** Device flow: the device code expired before the user approved it. */
export class DeviceCodeExpiredError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super('The device code expired before the user approved it: start the device flow again.', {
      ...details,
      transient: false,
    });
  }
}

/** Any other 4xx (or an unreadable answer). Permanent. */
export class TwitchUnexpectedResponseError extends TwitchRequestError {
  constructor(details: PartialDetails) {
    super(
      `Twitch answered ${details.status ?? 'an unreadable response'} on the ${details.endpoint} endpoint${
        details.twitchMessage ? `: "${details.twitchMessage}"` : ''
      }.`,
      { ...details, transient: false },
    );
  }
}

function describeCause(cause: unknown): string {
  const code = (cause as { cause?: { code?: unknown }; code?: unknown } | null)?.cause?.code ?? (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : 'unknown error';
}
