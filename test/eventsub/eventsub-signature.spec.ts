import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSubVerifier, parseEventSubTimestamp, signEventSubMessage, type EventSubSignedMessage } from '../../src/twitch-auth/index.js';

interface Vector {
  secret: string;
  messageId: string;
  timestamp: string;
  body: string;
  signature: string;
}

const [vector] = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../fixtures/eventsub-signature.json'), 'utf8'),
) as Vector[];
const vectorTime = parseEventSubTimestamp(vector.timestamp)!;

function message(overrides: Partial<EventSubSignedMessage> = {}): EventSubSignedMessage {
  return {
    messageId: vector.messageId,
    timestamp: vector.timestamp,
    signature: vector.signature,
    rawBody: Buffer.from(vector.body, 'utf8'),
    ...overrides,
  };
}

function flipByte(text: string, index: number): string {
  const bytes = Buffer.from(text, 'utf8');
  bytes[index] ^= 0x01;
  return bytes.toString('latin1');
}

describe('EventSub signature: the published test vector', () => {
  const ageless = new EventSubVerifier({ secrets: [vector.secret], maxMessageAgeSeconds: null });

  it('signs exactly as Twitch does', () => {
    expect(signEventSubMessage(vector.secret, vector.messageId, vector.timestamp, vector.body)).toBe(vector.signature);
    expect(signEventSubMessage(vector.secret, vector.messageId, vector.timestamp, Buffer.from(vector.body))).toBe(vector.signature);
  });

  it('verifies with the age check off, and with a clock injected at the message time', () => {
    expect(ageless.verify(message())).toEqual({ ok: true, timestampMs: vectorTime });
    const atThatTime = new EventSubVerifier({ secrets: [vector.secret], now: () => vectorTime + 5_000 });
    expect(atThatTime.verify(message())).toEqual({ ok: true, timestampMs: vectorTime });
  });

  it('fails when one byte of the body, id, timestamp or signature changes', () => {
    const body = Buffer.from(vector.body, 'utf8');
    for (const index of [0, 1, Math.floor(body.length / 2), body.length - 1]) {
      const tampered = Buffer.from(body);
      tampered[index] ^= 0x01;
      expect(ageless.verify(message({ rawBody: tampered }))).toEqual({ ok: false, reason: 'bad_signature' });
    }
    expect(ageless.verify(message({ messageId: flipByte(vector.messageId, 0) }))).toEqual({ ok: false, reason: 'bad_signature' });
    // The timestamp is signed as sent: an equivalent spelling of the same instant is not the same message.
    expect(ageless.verify(message({ timestamp: vector.timestamp.replace('8091512Z', '80915120Z') }))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(ageless.verify(message({ timestamp: flipByte(vector.timestamp, 18) }))).toEqual({ ok: false, reason: 'bad_signature' });
    const last = vector.signature.at(-1) === '0' ? '1' : '0';
    expect(ageless.verify(message({ signature: vector.signature.slice(0, -1) + last }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(ageless.verify(message({ signature: vector.signature.toUpperCase().replace('SHA256=', 'sha256=') }))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(ageless.verify(message({ signature: vector.signature.slice(0, -2) }))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('fails with a secret one byte off', () => {
    const wrong = new EventSubVerifier({ secrets: [flipByte(vector.secret, 3)], maxMessageAgeSeconds: null });
    expect(wrong.verify(message())).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts a previous secret during a rotation, in any position', () => {
    const rotated = new EventSubVerifier({ secrets: ['the-new-secret-123', vector.secret], maxMessageAgeSeconds: null });
    expect(rotated.verify(message()).ok).toBe(true);
    const other = new EventSubVerifier({ secrets: ['the-new-secret-123', 'an-older-secret-456'], maxMessageAgeSeconds: null });
    expect(other.verify(message()).ok).toBe(false);
  });

  it('refuses other algorithms, even with a correct digest of theirs', () => {
    const hex = vector.signature.slice('sha256='.length);
    for (const signature of [`sha1=${hex}`, `md5=${hex}`, `SHA256=${hex}`, `sha512=${hex}`, hex, '']) {
      expect(ageless.verify(message({ signature }))).toEqual({ ok: false, reason: 'unsupported_algorithm' });
    }
  });
});

describe('EventSub replay window', () => {
  const secret = 'a-secret-of-ours';
  const now = Date.parse('2024-05-01T12:00:00.000Z');
  const verifier = new EventSubVerifier({ secrets: [secret], maxMessageAgeSeconds: 600, now: () => now });
  const signedAt = (timestamp: string): EventSubSignedMessage => {
    const rawBody = Buffer.from('{"subscription":{"type":"stream.online"},"event":{}}');
    return { messageId: 'id-1', timestamp, rawBody, signature: signEventSubMessage(secret, 'id-1', timestamp, rawBody) };
  };

  it('accepts up to exactly ten minutes old, refuses older', () => {
    expect(verifier.verify(signedAt('2024-05-01T11:50:00.000000000Z')).ok).toBe(true);
    expect(verifier.verify(signedAt('2024-05-01T11:49:59.999Z'))).toEqual({ ok: false, reason: 'too_old' });
    expect(verifier.verify(signedAt('2021-02-19T23:47:00.8091512Z'))).toEqual({ ok: false, reason: 'too_old' });
  });

  it('tolerates 60 s of clock skew into the future, no more', () => {
    expect(verifier.verify(signedAt('2024-05-01T12:01:00Z')).ok).toBe(true);
    expect(verifier.verify(signedAt('2024-05-01T12:01:00.001Z'))).toEqual({ ok: false, reason: 'in_future' });
    expect(verifier.verify(signedAt('2030-01-01T00:00:00Z'))).toEqual({ ok: false, reason: 'in_future' });
  });

  it('refuses a correctly signed timestamp that is not RFC 3339', () => {
    for (const timestamp of [
      '',
      'yesterday',
      '1714564800',
      '2024-05-01 12:00:00Z',
      '2024-05-01T12:00:00',
      '2024-05-01T12:00:00.1234567890Z',
    ]) {
      expect(verifier.verify(signedAt(timestamp))).toEqual({ ok: false, reason: 'malformed_timestamp' });
    }
  });

  it('checks the signature before the clock', () => {
    const stale = signedAt('2020-01-01T00:00:00Z');
    expect(verifier.verify({ ...stale, signature: stale.signature.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
});

describe('parseEventSubTimestamp', () => {
  it('reads RFC 3339 with 0 to 9 fractional digits and any offset', () => {
    expect(parseEventSubTimestamp('2021-02-19T23:47:00Z')).toBe(Date.UTC(2021, 1, 19, 23, 47, 0));
    expect(parseEventSubTimestamp('2021-02-19T23:47:00.8Z')).toBe(Date.UTC(2021, 1, 19, 23, 47, 0, 800));
    expect(parseEventSubTimestamp('2021-02-19T23:47:00.8091512Z')).toBe(Date.UTC(2021, 1, 19, 23, 47, 0, 809));
    expect(parseEventSubTimestamp('2021-02-19T23:47:00.123456789Z')).toBe(Date.UTC(2021, 1, 19, 23, 47, 0, 123));
    expect(parseEventSubTimestamp('2021-02-20T01:17:00.5+01:30')).toBe(Date.UTC(2021, 1, 19, 23, 47, 0, 500));
    expect(parseEventSubTimestamp('2021-02-19t20:47:00-03:00')).toBe(Date.UTC(2021, 1, 19, 23, 47, 0));
    expect(parseEventSubTimestamp('2016-12-31T23:59:60Z')).toBe(Date.UTC(2016, 11, 31, 23, 59, 59, 999));
  });

  it('agrees with Date.parse on millisecond timestamps', () => {
    for (const ms of [0, 1, 999, 1_613_778_420_809, 4_102_444_799_999]) {
      expect(parseEventSubTimestamp(new Date(ms).toISOString())).toBe(ms);
    }
  });

  it('reads each instant right when consecutive timestamps share a day or not', () => {
    // The start of the last day read is reused: a change of any date field must not reuse it.
    const days = [
      '2021-02-28',
      '2021-02-28',
      '2021-03-28',
      '2022-02-28',
      '2021-02-27',
      '2021-12-31',
      '2021-12-31',
      '2024-02-29',
      '2021-02-28',
    ];
    for (const day of days) {
      const value = `${day}T23:47:00.123Z`;
      expect(parseEventSubTimestamp(value)).toBe(Date.parse(value));
    }
    // A day the month lacks stays invalid right after a valid day of that month was read, and the other way round.
    expect(parseEventSubTimestamp('2021-02-28T00:00:00Z')).toBe(Date.UTC(2021, 1, 28));
    expect(parseEventSubTimestamp('2021-02-29T00:00:00Z')).toBeNull();
    expect(parseEventSubTimestamp('2021-02-29T00:00:00Z')).toBeNull();
    expect(parseEventSubTimestamp('2021-02-28T00:00:00Z')).toBe(Date.UTC(2021, 1, 28));
  });

  it('rejects what is not a valid instant', () => {
    for (const value of [
      '2021-02-30T00:00:00Z',
      '2021-13-01T00:00:00Z',
      '2021-02-19T24:00:00Z',
      '2021-02-19T23:60:00Z',
      '2021-02-19T23:47:00.Z',
      '2021-02-19T23:47:00+25:00',
      ' 2021-02-19T23:47:00Z',
      '2021-02-19T23:47:00Z\n',
    ]) {
      expect(parseEventSubTimestamp(value)).toBeNull();
    }
  });
});
