/**
 * Loaded before every test file (jest `setupFilesAfterEnv`). After each file it
 * asserts, for every FakeTwitch the file started through `startFake`, that
 * - no captured log line and no recorded error message contains any secret
 *   FakeTwitch issued or knows (tokens, refresh tokens, codes, client secret);
 * - no request reached FakeTwitch with a secret in its URL.
 */
import { FakeTwitch, type FakeTwitchOptions } from '../../src/twitch-auth/testing/index.js';
import { capturedLogs } from './log-capture.js';

const fakes = new Set<FakeTwitch>();
const errorMessages: string[] = [];
const extraSecrets = new Set<string>();

/** Starts a FakeTwitch whose secrets the guard checks after the file. */
export async function startFake(options: FakeTwitchOptions = {}): Promise<FakeTwitch> {
  const fake = await FakeTwitch.start(options);
  fakes.add(fake);
  return fake;
}

/** Awaits `promise` expecting a rejection; records the error's message for the guard and returns the error. */
export async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    errorMessages.push(`${err.name}: ${err.message} ${String((err as { cause?: unknown }).cause ?? '')}`);
    return err;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Registers a secret the guard must also look for (e.g. an encryption key). */
export function guardSecret(secret: string): void {
  extraSecrets.add(secret);
}

afterAll(async () => {
  const secrets = new Set(extraSecrets);
  for (const fake of fakes) {
    for (const secret of fake.issuedSecrets()) secrets.add(secret);
    for (const request of fake.requests) {
      const url = request.path + '?' + new URLSearchParams(request.query as Record<string, string>).toString();
      for (const name of ['client_secret', 'refresh_token', 'device_code', 'access_token']) {
        expect({ url: request.path, param: name, present: Object.prototype.hasOwnProperty.call(request.query, name) }).toEqual({
          url: request.path,
          param: name,
          present: false,
        });
      }
      const leaked = [...fake.issuedSecrets()].filter((s) => s.length >= 8 && url.includes(s) && request.path !== '/oauth2/authorize');
      expect({ path: request.path, leaked }).toEqual({ path: request.path, leaked: [] });
    }
  }
  const texts = [...capturedLogs, ...errorMessages];
  const leaks: string[] = [];
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    for (const text of texts) if (text.includes(secret)) leaks.push(text);
  }
  expect(leaks).toEqual([]);
  capturedLogs.length = 0;
  errorMessages.length = 0;
  fakes.clear();
});
