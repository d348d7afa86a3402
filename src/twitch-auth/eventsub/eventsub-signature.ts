import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

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
  return EVENTSUB_SIGNATURE_PREFIX + eventSubDigestHex(secret, messageId, timestamp, rawBody);
}

/** The lowercase hex HMAC-SHA256 of a message (what follows `sha256=`). */
function eventSubDigestHex(secret: string | KeyObject, messageId: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  // One update for both headers: the MAC covers the same bytes however they are split.
  hmac.update(messageId + timestamp, 'utf8');
  hmac.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
  return hmac.digest('hex');
}

/** `sha256=` followed by exactly 64 lowercase hex digits, as Twitch sends it. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp with up to nine
 * fractional digits (Twitch sends nanoseconds, which `Date.parse` does not
 * promise to read), or `null` when the text is not one. Digits past the
 * millisecond are truncated. Accepts exactly
 * `YYYY-MM-DD(T|t)hh:mm:ss[.f{1,9}](Z|z|(+|-)hh:mm)`, read character by
 * character: a regular expression with eleven groups costs more per message.
 */
export function parseEventSubTimestamp(value: string): number | null {
  const length = value.length;
  if (length < 20) return null;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  if ((year | month | day | hour | minute | second) < 0) return null;
  const t = value.charCodeAt(10);
  if (value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH || (t !== UPPER_T && t !== LOWER_T)) return null;
  if (value.charCodeAt(13) !== COLON || value.charCodeAt(16) !== COLON) return null;
  let index = 19;
  let millis = 0;
  if (value.charCodeAt(index) === DOT) {
    const first = ++index;
    while (index < length && isDigit(value.charCodeAt(index))) {
      if (index - first < 3) millis = millis * 10 + value.charCodeAt(index) - ZERO;
      index++;
    }
    const count = index - first;
    if (count < 1 || count > 9) return null;
    for (let i = count; i < 3; i++) millis *= 10;
  }
  let offsetMinutes = 0;
  const zone = value.charCodeAt(index);
  if (zone === UPPER_Z || zone === LOWER_Z) {
    if (index + 1 !== length) return null;
  } else if (zone === PLUS || zone === DASH) {
    if (index + 6 !== length || value.charCodeAt(index + 3) !== COLON) return null;
    const offsetHours = digitsAt(value, index + 1, 2);
    const offsetMins = digitsAt(value, index + 4, 2);
    if (offsetHours < 0 || offsetMins < 0 || offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (zone === DASH ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return null;
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const dayStart = utcDayStart(year, month, day);
  if (dayStart === null) return null;
  // A leap second (:60) is read as the last millisecond of its minute's 59th second.
  const seconds = Math.min(second, 59);
  const leapExtra = second === 60 ? 999 - millis : 0;
  return dayStart + ((hour * 60 + minute - offsetMinutes) * 60 + seconds) * 1000 + millis + leapExtra;
}

/** The last day read: a burst of messages is stamped within one day, so `Date.UTC` runs about once a day. */
let lastDayKey = -1;
let lastDayStart = 0;

/** Milliseconds since the epoch of the day's start, or null when the month lacks the day. */
function utcDayStart(year: number, month: number, day: number): number | null {
  const key = (year * 100 + month) * 100 + day;
  if (key === lastDayKey) return lastDayStart;
  const dayStart = Date.UTC(year, month - 1, day);
  // Every month has a 28th; past it, a day the month lacks rolls over into the next one.
  if (day > 28 && new Date(dayStart).getUTCDate() !== day) return null;
  lastDayKey = key;
  lastDayStart = dayStart;
  return dayStart;
}

const ZERO = 0x30;
const DASH = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const UPPER_T = 0x54;
const LOWER_T = 0x74;
const UPPER_Z = 0x5a;
const LOWER_Z = 0x7a;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The number written by `count` ASCII digits at `start`, or -1 if any of them is not a digit. */
function digitsAt(value: string, start: number, count: number): number {
  let result = 0;
  for (let i = start; i < start + count; i++) {
    const code = value.charCodeAt(i);
    if (!isDigit(code)) return -1;
    result = result * 10 + code - ZERO;
  }
  return result;
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
  /** The accepted secrets as HMAC keys, prepared once instead of per message. */
  private readonly keys: readonly KeyObject[];
  private readonly maxAgeMs: number | null;
  private readonly maxFutureMs: number;
  private readonly now: () => number;
  /** Hex signatures under comparison; `verify` is synchronous, so one pair serves every call. */
  private readonly received = Buffer.alloc(64);
  private readonly expected = Buffer.alloc(64);

  constructor(options: EventSubVerifierOptions) {
    if (options.secrets.length === 0) throw new Error('EventSubVerifier needs at least one secret.');
    this.keys = options.secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
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
    // The format check leaves exactly 64 lowercase hex digits, as digest('hex') writes them, so comparing the
    // texts compares the MACs. Both are copied into buffers kept for the purpose and compared in constant time.
    const { received, expected } = this;
    received.write(message.signature.slice(EVENTSUB_SIGNATURE_PREFIX.length), 'latin1');
    let matched = false;
    for (const key of this.keys) {
      expected.write(eventSubDigestHex(key, message.messageId, message.timestamp, message.rawBody), 'latin1');
      if (timingSafeEqual(expected, received)) matched = true;
    }
    return matched;
  }
}
