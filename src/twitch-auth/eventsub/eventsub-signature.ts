import { createHmac, timingSafeEqual } from 'node:crypto';

/** The only algorithm Twitch signs EventSub messages with; any other prefix is refused. */
export const EVENTSUB_SIGNATURE_PREFIX = 'sha256=';

/** How far in the future a message timestamp may lie (clock skew between Twitch and this host). */
export const EVENTSUB_MAX_FUTURE_SKEW_SECONDS = 60;

/**
 * The `Twitch-Eventsub-Message-Signature` value for a message: `sha256=` and
 * the lowercase hex HMAC-SHA256 of message id + timestamp (as sent) + raw body.
 * Exported so tests and the bundled sender sign exactly as Twitch does.
 */
export function signEventSubMessage(secret: string, messageId: string, timestamp: string, rawBody: Buffer | string): string {
  return EVENTSUB_SIGNATURE_PREFIX + eventSubDigest(secret, messageId, timestamp, rawBody).toString('hex');
}

/** The raw HMAC-SHA256 bytes of a message (what the `sha256=` hex encodes). */
function eventSubDigest(secret: string, messageId: string, timestamp: string, rawBody: Buffer | string): Buffer {
  const hmac = createHmac('sha256', secret);
  hmac.update(messageId, 'utf8');
  hmac.update(timestamp, 'utf8');
  hmac.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
  return hmac.digest();
}

/** `sha256=` followed by exactly 64 lowercase hex digits, as Twitch sends it. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp with up to nine
 * fractional digits (Twitch sends nanoseconds, which `Date.parse` does not
 * promise to read), or `null` when the text is not one. Digits past the
 * millisecond are truncated.
 */
export function parseEventSubTimestamp(value: string): number | null {
  const match = RFC3339.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const dayStart = Date.UTC(year, month - 1, day);
  if (new Date(dayStart).getUTCDate() !== day) return null;
  const millis = Number((match[7] ?? '0').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (match[9] !== undefined) {
    const offsetHours = Number(match[10]);
    const offsetMins = Number(match[11]);
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // A leap second (:60) is read as the last millisecond of its minute's 59th second.
  const seconds = Math.min(second, 59);
  const leapExtra = second === 60 ? 999 - millis : 0;
  return dayStart + ((hour * 60 + minute - offsetMinutes) * 60 + seconds) * 1000 + millis + leapExtra;
}

/** The headers and body a signature covers, exactly as received. */
export interface EventSubSignedMessage {
  messageId: string;
  /** `Twitch-Eventsub-Message-Timestamp` as sent. */
  timestamp: string;
  /** `Twitch-Eventsub-Message-Signature` as sent. */
  signature: string;
  rawBody: Buffer;
}

/** Why a message was refused; every reason maps to 403. */
export type EventSubRejection = 'unsupported_algorithm' | 'bad_signature' | 'malformed_timestamp' | 'too_old' | 'in_future';

/** Outcome of `EventSubVerifier.verify`. */
export type EventSubVerification = { ok: true; timestampMs: number } | { ok: false; reason: EventSubRejection };

/** Settings of `EventSubVerifier`. */
export interface EventSubVerifierOptions {
  /** The current secret first, then secrets still accepted during a rotation. */
  secrets: readonly string[];
  /** Older messages are replays. `null` turns the age check off (only for fixed test vectors). Default 600. */
  maxMessageAgeSeconds?: number | null;
  /** Default 60. */
  maxFutureSkewSeconds?: number;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * Checks that an EventSub message comes from Twitch and is fresh: the HMAC
 * over the raw bytes, compared in constant time against every accepted
 * secret, then the replay window. Pure: no I/O, injectable clock.
 */
export class EventSubVerifier {
  private readonly secrets: readonly string[];
  private readonly maxAgeMs: number | null;
  private readonly maxFutureMs: number;
  private readonly now: () => number;

  constructor(options: EventSubVerifierOptions) {
    if (options.secrets.length === 0) throw new Error('EventSubVerifier needs at least one secret.');
    this.secrets = [...options.secrets];
    const maxAge = options.maxMessageAgeSeconds === undefined ? 600 : options.maxMessageAgeSeconds;
    this.maxAgeMs = maxAge === null ? null : maxAge * 1000;
    this.maxFutureMs = (options.maxFutureSkewSeconds ?? EVENTSUB_MAX_FUTURE_SKEW_SECONDS) * 1000;
    this.now = options.now ?? Date.now;
  }

  /** Signature first (so an unsigned request learns nothing about the clock), then freshness. */
  verify(message: EventSubSignedMessage): EventSubVerification {
    if (!message.signature.startsWith(EVENTSUB_SIGNATURE_PREFIX)) return { ok: false, reason: 'unsupported_algorithm' };
    if (!this.signatureMatches(message)) return { ok: false, reason: 'bad_signature' };
    const timestampMs = parseEventSubTimestamp(message.timestamp);
    if (timestampMs === null) return { ok: false, reason: 'malformed_timestamp' };
    const now = this.now();
    if (this.maxAgeMs !== null && now - timestampMs > this.maxAgeMs) return { ok: false, reason: 'too_old' };
    if (timestampMs - now > this.maxFutureMs) return { ok: false, reason: 'in_future' };
    return { ok: true, timestampMs };
  }

  /** True when any accepted secret produced this signature. Every secret is tried, whichever matches. */
  signatureMatches(message: EventSubSignedMessage): boolean {
    if (!SIGNATURE_FORMAT.test(message.signature)) return false;
    // Compared as bytes: cheaper than building hex strings, still constant time.
    const received = Buffer.from(message.signature.slice(EVENTSUB_SIGNATURE_PREFIX.length), 'hex');
    let matched = false;
    for (const secret of this.secrets) {
      if (timingSafeEqual(eventSubDigest(secret, message.messageId, message.timestamp, message.rawBody), received)) matched = true;
    }
    return matched;
  }
}
