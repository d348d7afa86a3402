import { TwitchAuthError } from '../twitch-auth.errors.js';

/** The EventSub WebSocket could not be opened (network, TLS, HTTP refusal) or closed before its welcome. */
export class EventSubWebSocketConnectError extends TwitchAuthError {
  constructor(url: string, detail: string) {
    super(
      `Could not open the EventSub WebSocket at ${safeUrl(url)}: ${detail}. Check twitch.eventSubWebSocketUrl and the network; ` +
        'the module tries again with backoff.',
    );
  }
}

/** The socket opened but Twitch sent no `session_welcome` in time. */
export class EventSubWebSocketWelcomeTimeoutError extends TwitchAuthError {
  constructor(url: string, timeoutMs: number) {
    super(
      `The EventSub WebSocket at ${safeUrl(url)} sent no session_welcome within ${timeoutMs} ms; ` +
        'check that twitch.eventSubWebSocketUrl points at an EventSub WebSocket server.',
    );
  }
}

/** The connection was closed by its owner while something still waited on it. */
export class EventSubWebSocketClosedError extends TwitchAuthError {
  constructor() {
    super('The EventSub WebSocket connection was closed (application shutdown or replaced) before the operation finished.');
  }
}

/** Which of Twitch's WebSocket limits a subscription would break. */
export type EventSubWebSocketLimit = 'subscriptions-per-socket' | 'sockets-per-user' | 'total-cost';

/**
 * A WebSocket subscription was refused before asking Twitch, because it
 * would exceed one of Twitch's limits (300 enabled subscriptions per socket,
 * 3 sockets per user and client id, `max_total_cost`).
 */
export class EventSubWebSocketLimitError extends TwitchAuthError {
  /** The limit reached. */
  readonly limit: EventSubWebSocketLimit;
  /** How many are in use. */
  readonly current: number;
  /** Twitch's maximum. */
  readonly maximum: number;

  constructor(limit: EventSubWebSocketLimit, userId: string, current: number, maximum: number) {
    super(limitMessage(limit, userId, current, maximum));
    this.limit = limit;
    this.current = current;
    this.maximum = maximum;
  }
}

function limitMessage(limit: EventSubWebSocketLimit, userId: string, current: number, maximum: number): string {
  switch (limit) {
    case 'subscriptions-per-socket':
      return (
        `User ${userId} already has ${current} of ${maximum} WebSocket subscriptions on each of their sockets and no socket is left: ` +
        'unsubscribe from something first, or use a webhook or conduit transport for this subscription.'
      );
    case 'sockets-per-user':
      return (
        `User ${userId} already has ${current} of ${maximum} EventSub WebSockets Twitch allows per user and client id, ` +
        'each carrying its 300 subscriptions (or held by another process of this app): ' +
        'unsubscribe from something first, or use a webhook or conduit transport.'
      );
    case 'total-cost':
      return (
        `User ${userId}'s WebSocket subscriptions already cost ${current} of the ${maximum} Twitch allows (max_total_cost): ` +
        'subscriptions the user authorized cost nothing, so have the condition name the token owner, or unsubscribe from something first.'
      );
  }
}

/** The URL without its query: a `reconnect_id` is not a secret, but it is noise in logs. */
function safeUrl(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : url.slice(0, index);
}
