import { randomUUID } from 'node:crypto';
import { signEventSubMessage } from '../eventsub/eventsub-signature.js';
import type { WireEventSubSubscription } from '../twitch/eventsub-wire.types.js';

/** Where and how an `EventSubSender` delivers. */
export interface EventSubSenderOptions {
  /** The app's callback, e.g. `http://127.0.0.1:3000/eventsub/callback`. */
  callbackUrl: string;
  /** The EventSub secret the app was configured with. */
  secret: string;
  /** Per-request timeout. Default 10000. */
  timeoutMs?: number;
}

/** Per-message overrides, mostly for tests of what the app must refuse. */
export interface EventSubSendOptions {
  /** Default: a fresh UUID. Reuse one to simulate Twitch resending a message. */
  messageId?: string;
  /** Sent as `Twitch-Eventsub-Message-Timestamp` and signed as is. Default: now, with nine fractional digits like Twitch. */
  timestamp?: string | Date;
  /** `Twitch-Eventsub-Message-Retry`. Default 0. */
  retry?: number;
  /** Sign with this secret instead (e.g. a wrong or rotated one). */
  secret?: string;
  /** Send this exact signature header instead of computing one. */
  signature?: string;
  /** Send these bytes instead of the body that was signed (tampering). */
  rawBody?: string | Buffer;
  /** Extra or replaced headers; `null` removes one (e.g. `{ 'Twitch-Eventsub-Message-Signature': null }`). */
  headers?: Record<string, string | null>;
}

/** Subscription fields of a message, in Twitch's shape; anything not given gets a plausible value. */
export interface EventSubSubscriptionOverrides extends Partial<Omit<WireEventSubSubscription, 'transport'>> {
  transport?: WireEventSubSubscription['transport'];
}

/** What the app answered, with what was sent. */
export interface EventSubSendResult {
  status: number;
  headers: Headers;
  body: string;
  messageId: string;
  timestamp: string;
  signature: string;
}

/**
 * Delivers EventSub webhook messages the way Twitch does (headers, HMAC
 * signature over id + timestamp + raw body) so users can test their
 * handlers end to end, and how the app reacts to tampered ones. FakeTwitch
 * uses it for its callback handshake.
 *
 * ```ts
 * const sender = new EventSubSender({ callbackUrl: `${url}/eventsub/callback`, secret });
 * await sender.notification('channel.follow', { user_id: '1', ... }, { version: '2' });
 * ```
 */
export class EventSubSender {
  constructor(private readonly options: EventSubSenderOptions) {}

  /** A `notification` of `type` carrying `event` (snake_case, as Twitch sends it). */
  notification(
    type: string,
    event: Record<string, unknown>,
    options: EventSubSendOptions & {
      version?: string;
      condition?: Record<string, string>;
      subscription?: EventSubSubscriptionOverrides;
    } = {},
  ): Promise<EventSubSendResult> {
    const subscription = this.subscription({ type, version: options.version, condition: options.condition, ...options.subscription });
    return this.send('notification', { subscription, event }, options);
  }

  /** A `webhook_callback_verification`; the app must answer 200 with exactly `challenge`. */
  challenge(
    options: EventSubSendOptions & {
      challenge?: string;
      type?: string;
      version?: string;
      subscription?: EventSubSubscriptionOverrides;
    } = {},
  ): Promise<EventSubSendResult & { challenge: string }> {
    const challenge = options.challenge ?? randomUUID();
    const subscription = this.subscription({
      type: options.type,
      version: options.version,
      status: 'webhook_callback_verification_pending',
      ...options.subscription,
    });
    return this.send('webhook_callback_verification', { challenge, subscription }, options).then((result) => ({ ...result, challenge }));
  }

  /** A `revocation`: Twitch telling the app it stopped a subscription for `reason`. */
  revocation(
    reason = 'authorization_revoked',
    options: EventSubSendOptions & { type?: string; version?: string; subscription?: EventSubSubscriptionOverrides } = {},
  ): Promise<EventSubSendResult> {
    const subscription = this.subscription({ type: options.type, version: options.version, status: reason, ...options.subscription });
    return this.send('revocation', { subscription }, options);
  }

  /** Sends any message type with any body (an object is serialized; a string or Buffer is sent and signed as is). */
  async send(messageType: string, body: object | string | Buffer, options: EventSubSendOptions = {}): Promise<EventSubSendResult> {
    const signed = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
    const messageId = options.messageId ?? randomUUID();
    const timestamp = typeof options.timestamp === 'string' ? options.timestamp : formatEventSubTimestamp(options.timestamp ?? new Date());
    const signature = options.signature ?? signEventSubMessage(options.secret ?? this.options.secret, messageId, timestamp, signed);
    const subscription =
      (typeof body === 'object' && !Buffer.isBuffer(body)
        ? (body as { subscription?: Partial<WireEventSubSubscription> }).subscription
        : undefined) ?? {};
    const headers: Record<string, string | null> = {
      'Content-Type': 'application/json',
      'Twitch-Eventsub-Message-Id': messageId,
      'Twitch-Eventsub-Message-Retry': String(options.retry ?? 0),
      'Twitch-Eventsub-Message-Type': messageType,
      'Twitch-Eventsub-Message-Signature': signature,
      'Twitch-Eventsub-Message-Timestamp': timestamp,
      'Twitch-Eventsub-Subscription-Type': subscription.type ?? null,
      'Twitch-Eventsub-Subscription-Version': subscription.version ?? null,
      ...options.headers,
    };
    const sent =
      options.rawBody === undefined ? signed : Buffer.isBuffer(options.rawBody) ? options.rawBody : Buffer.from(options.rawBody, 'utf8');
    const response = await fetch(this.options.callbackUrl, {
      method: 'POST',
      headers: Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== null)),
      body: new Uint8Array(sent),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    return { status: response.status, headers: response.headers, body: await response.text(), messageId, timestamp, signature };
  }

  private subscription(
    overrides: EventSubSubscriptionOverrides & { type?: string; version?: string; condition?: Record<string, string> },
  ): WireEventSubSubscription {
    return {
      id: overrides.id ?? randomUUID(),
      status: overrides.status ?? 'enabled',
      type: overrides.type ?? 'channel.follow',
      version: overrides.version ?? '1',
      cost: overrides.cost ?? 0,
      condition: overrides.condition ?? {},
      transport: overrides.transport ?? { method: 'webhook', callback: this.options.callbackUrl },
      created_at: overrides.created_at ?? formatEventSubTimestamp(new Date()),
    };
  }
}

/** An RFC 3339 time with nine fractional digits, as Twitch writes them (`2021-02-19T23:47:00.809151200Z`). */
export function formatEventSubTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}
