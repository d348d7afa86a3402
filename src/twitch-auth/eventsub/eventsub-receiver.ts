import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { TwitchAuthMetrics, type EventSubMessageOutcome } from '../metrics/twitch-auth.metrics.js';
import type { WireEventSubNotificationBody, WireEventSubRevocationBody } from '../twitch/eventsub-wire.types.js';
import { EventSubDeduplicator } from './eventsub-deduplicator.js';
import { EventSubDispatcher, type EventSubMessageMeta } from './eventsub-dispatcher.js';
import { USER_AUTHORIZATION_REVOKE } from './eventsub-token-revoker.js';
import { EventSubNotConfiguredError, EventSubRawBodyMissingError } from './eventsub.errors.js';
import { EventSubVerifier, type EventSubRejection } from './eventsub-signature.js';

/** Larger bodies are refused with 413; Twitch's messages are a few kilobytes. */
export const EVENTSUB_MAX_BODY_BYTES = 1024 * 1024;

/** EventSub's message headers (Node lowercases header names). */
export const EventSubHeader = {
  MessageId: 'twitch-eventsub-message-id',
  MessageRetry: 'twitch-eventsub-message-retry',
  MessageType: 'twitch-eventsub-message-type',
  MessageSignature: 'twitch-eventsub-message-signature',
  MessageTimestamp: 'twitch-eventsub-message-timestamp',
  SubscriptionType: 'twitch-eventsub-subscription-type',
  SubscriptionVersion: 'twitch-eventsub-subscription-version',
} as const;

/** What the receiver reads from an HTTP request, whatever the adapter. */
export interface EventSubHttpRequest {
  headers: Record<string, string | string[] | undefined>;
  /** `req.rawBody`, present when the app was created with `rawBody: true`. */
  rawBody?: unknown;
}

/** The answer to send, and the work to start once it is sent. */
export interface EventSubHttpResponse {
  status: number;
  /** Absent for 204. */
  contentType?: string;
  body?: string;
  /** Dispatch of the message, to run after the response is committed. Never rejects. */
  afterResponse?: () => Promise<void>;
}

/** How each verification failure is counted in `twitch_auth.eventsub.messages`. */
const REJECTION_OUTCOMES: Record<EventSubRejection, EventSubMessageOutcome> = {
  unsupported_algorithm: 'bad_signature',
  bad_signature: 'bad_signature',
  malformed_timestamp: 'malformed',
  too_old: 'replay',
  in_future: 'replay',
};

const REJECTION_MESSAGES: Record<EventSubRejection, string> = {
  unsupported_algorithm: 'The EventSub signature must use sha256.',
  bad_signature: 'The EventSub signature does not match.',
  malformed_timestamp: 'The EventSub timestamp is not an RFC 3339 time.',
  too_old: 'The EventSub message is too old (possible replay).',
  in_future: 'The EventSub timestamp is too far in the future.',
};

const EMPTY_BODY = Buffer.alloc(0);

const REQUIRED_HEADERS = [
  EventSubHeader.MessageId,
  EventSubHeader.MessageTimestamp,
  EventSubHeader.MessageSignature,
  EventSubHeader.MessageType,
];

/**
 * The EventSub webhook rules, independent of Express or Fastify: what the
 * headers alone refuse (`refuseHead`), raw body, signature and replay
 * window (403), body shape (400), challenge (200 text/plain), de-duplication after
 * verification, and dispatch only after a 204 went out.
 */
@Injectable()
export class EventSubReceiver implements OnModuleInit {
  private readonly logger = new Logger('TwitchAuth');
  private rawBodyWarningLogged = false;

  constructor(
    @Inject(EventSubVerifier) private readonly verifier: EventSubVerifier | null,
    private readonly deduplicator: EventSubDeduplicator,
    private readonly dispatcher: EventSubDispatcher,
    @Optional() private readonly metrics: TwitchAuthMetrics = TwitchAuthMetrics.disabled,
  ) {}

  /** Refuses to start a mounted callback that could verify nothing. */
  onModuleInit(): void {
    if (!this.verifier) throw new EventSubNotConfiguredError('The EventSub callback route (routes.eventSub)');
  }

  /** The refusal the headers alone decide (see `classifyEventSubHead`), counted in the metrics; null when they pass. */
  refuseHead(headers: EventSubHttpRequest['headers'], bodyPresent?: boolean): EventSubHttpResponse | null {
    const refusal = classifyEventSubHead(headers, bodyPresent);
    if (!refusal) return null;
    this.count(refusal.outcome);
    return refusal.response;
  }

  /** Counts a webhook message answered without reaching `receive` (e.g. a body too large or too slow to read). */
  count(outcome: EventSubMessageOutcome): void {
    this.metrics.eventSubMessage('webhook', outcome);
  }

  /** Decides the answer to one callback request. */
  async receive(request: EventSubHttpRequest): Promise<EventSubHttpResponse> {
    const { headers } = request;
    const refused = this.refuseHead(headers, Buffer.isBuffer(request.rawBody) ? request.rawBody.length > 0 : undefined);
    if (refused) return refused;
    let rawBody: Buffer;
    if (Buffer.isBuffer(request.rawBody)) rawBody = request.rawBody;
    else if (!hasBody(headers)) rawBody = EMPTY_BODY;
    else return this.rawBodyMissing();
    if (rawBody.length > EVENTSUB_MAX_BODY_BYTES) {
      this.count('malformed');
      return eventSubPayloadTooLarge();
    }

    // refuseHead checked that all four are there, once each, and the type is one Twitch sends.
    const messageId = headers[EventSubHeader.MessageId] as string;
    const timestamp = headers[EventSubHeader.MessageTimestamp] as string;
    const signature = headers[EventSubHeader.MessageSignature] as string;
    const messageType = headers[EventSubHeader.MessageType] as EventSubMessageType;
    const verification = this.verifier!.verify({ messageId, timestamp, signature, rawBody });
    if (!verification.ok) {
      this.logger.debug(`Refused an EventSub request: ${verification.reason}.`);
      this.count(REJECTION_OUTCOMES[verification.reason]);
      return forbidden(REJECTION_MESSAGES[verification.reason]);
    }

    const body = parseBody(rawBody, messageType);
    if (!body) {
      this.count('malformed');
      return eventSubErrorResponse(400, 'Bad Request', `The body of this ${messageType} message is not the JSON Twitch sends.`);
    }

    if (messageType === 'webhook_callback_verification') {
      this.count('challenge');
      const subscription = body.subscription as Record<string, unknown>;
      this.logger.log(
        `Answered Twitch's callback verification for EventSub subscription ${String(subscription.id)} (${String(subscription.type)}).`,
      );
      return { status: 200, contentType: 'text/plain', body: body.challenge as string };
    }
    let first: boolean;
    try {
      first = await this.deduplicator.firstDelivery(messageId);
    } catch (error) {
      this.logger.error(
        `Could not record EventSub message ${messageId} as delivered; Twitch will resend it: ${error instanceof Error ? error.message : String(error)}`,
      );
      this.count('error');
      return eventSubErrorResponse(
        500,
        'Internal Server Error',
        'The message could not be recorded; it will be accepted when Twitch resends it.',
      );
    }
    if (!first) {
      this.count('duplicate');
      return { status: 204 };
    }
    // Handed to the dispatcher, which sends it to whoever listens (possibly nobody).
    this.count('dispatched');
    const meta: EventSubMessageMeta = { messageId, timestamp, transport: 'webhook' };
    if (messageType === 'revocation') {
      return { status: 204, afterResponse: () => this.dispatcher.dispatchRevocation(body as unknown as WireEventSubRevocationBody, meta) };
    }
    const notification = body as unknown as WireEventSubNotificationBody;
    // Nothing is scheduled for a notification no listener would receive, unless it revokes a user's token.
    const audience = this.dispatcher.notificationAudience(notification);
    if (audience === null && notification.subscription.type !== USER_AUTHORIZATION_REVOKE) return { status: 204 };
    return { status: 204, afterResponse: () => this.dispatcher.dispatchNotification(notification, meta, audience) };
  }

  private rawBodyMissing(): EventSubHttpResponse {
    this.count('error');
    const error = new EventSubRawBodyMissingError();
    if (!this.rawBodyWarningLogged) {
      this.rawBodyWarningLogged = true;
      this.logger.error(error.message);
    }
    return eventSubErrorResponse(500, 'Internal Server Error', error.message);
  }
}

/** The `Twitch-Eventsub-Message-Type` values Twitch sends. */
type EventSubMessageType = 'notification' | 'revocation' | 'webhook_callback_verification';

/** `sha256=` and 64 lowercase hex digits: the only shape a signature Twitch made can have. */
const SIGNATURE_SHAPE = /^sha256=[0-9a-f]{64}$/;

/**
 * The refusal a request earns from its headers alone, or `null` when the body
 * is worth reading: a declared length over the limit (413), a body that is not
 * JSON (415), a message header missing (403), a signature that cannot be
 * Twitch's (403), an unknown message type (400), with how the metrics count
 * it. The direct mount calls it (through `refuseHead`)
 * before reading a byte of the body, so a request that could never pass costs
 * no memory and no waiting; `receive` calls it first too, so both mounts
 * answer alike. `bodyPresent` is known when the body was already read;
 * otherwise the headers say whether one follows.
 */
function classifyEventSubHead(
  headers: EventSubHttpRequest['headers'],
  bodyPresent?: boolean,
): { response: EventSubHttpResponse; outcome: EventSubMessageOutcome } | null {
  const malformed = (response: EventSubHttpResponse) => ({ response, outcome: 'malformed' as const });
  const badSignature = (message: string) => ({ response: forbidden(message), outcome: 'bad_signature' as const });
  const declaredLength = Number(single(headers['content-length']) ?? 0);
  if (declaredLength > EVENTSUB_MAX_BODY_BYTES) return malformed(eventSubPayloadTooLarge());
  if ((bodyPresent ?? hasBody(headers)) && !isJson(single(headers['content-type']))) {
    return malformed(eventSubErrorResponse(415, 'Unsupported Media Type', 'EventSub messages are application/json.'));
  }
  const missing = REQUIRED_HEADERS.filter((name) => !single(headers[name]));
  if (missing.length > 0) return malformed(forbidden(`Missing EventSub header(s): ${missing.join(', ')}.`));
  const signature = headers[EventSubHeader.MessageSignature] as string;
  if (!signature.startsWith('sha256=')) return badSignature(REJECTION_MESSAGES.unsupported_algorithm);
  // The verifier would say the same after reading the body: no HMAC is written this way.
  if (!SIGNATURE_SHAPE.test(signature)) return badSignature(REJECTION_MESSAGES.bad_signature);
  const messageType = headers[EventSubHeader.MessageType] as string;
  if (messageType !== 'notification' && messageType !== 'revocation' && messageType !== 'webhook_callback_verification') {
    return malformed(eventSubErrorResponse(400, 'Bad Request', `Unknown EventSub message type "${messageType.slice(0, 64)}".`));
  }
  return null;
}

/**
 * The parsed body when it has the shape its message type needs: a
 * `subscription` object with a string `type`, plus an `event` object for
 * notifications and a string `challenge` for verifications.
 */
function parseBody(rawBody: Buffer, messageType: string): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(parsed) || !isObject(parsed.subscription) || typeof parsed.subscription.type !== 'string') return null;
  if (messageType === 'notification' && !isObject(parsed.event)) return null;
  if (messageType === 'webhook_callback_verification' && typeof parsed.challenge !== 'string') return null;
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A header's value when it was sent exactly once. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function hasBody(headers: EventSubHttpRequest['headers']): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(single(headers['content-length']) ?? 0);
  return Number.isFinite(length) && length > 0;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === 'application/json') return true;
  const essence = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return essence === 'application/json' || essence.endsWith('+json');
}

/** Dispatch starts once the answer is on its way: Twitch wants a 2xx within seconds, whatever listeners do. */
export function startAfterResponse(result: EventSubHttpResponse): void {
  const afterResponse = result.afterResponse;
  if (afterResponse) setImmediate(() => void afterResponse());
}

/** A JSON error answer in the shape Nest's own errors have. */
export function eventSubErrorResponse(status: number, error: string, message: string): EventSubHttpResponse {
  return { status, contentType: 'application/json', body: JSON.stringify({ statusCode: status, error, message }) };
}

function forbidden(message: string): EventSubHttpResponse {
  return eventSubErrorResponse(403, 'Forbidden', message);
}

/** The 413 answer to a message over `EVENTSUB_MAX_BODY_BYTES`. */
export function eventSubPayloadTooLarge(): EventSubHttpResponse {
  return eventSubErrorResponse(413, 'Payload Too Large', `EventSub messages are limited to ${EVENTSUB_MAX_BODY_BYTES} bytes.`);
}
