import { randomBytes } from 'node:crypto';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

/**
 * The plain-text warning is once per process, so the order of these tests
 * matters: the cases that must not warn run before the first one that does.
 */
describe('the warning that TypeORM storage keeps tokens in plain text', () => {
  let fake: FakeTwitch;
  const dir = tempDir();
  const key = randomBytes(32).toString('base64');
  guardSecret(key);

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake.close();
    dir.remove();
  });

  const warnings = () => capturedLogs.filter((line) => /tokens are stored in plain text/.test(line));

  async function startAndStop(options: Parameters<typeof createTestApp>[0]): Promise<void> {
    const t = await createTestApp(options);
    await t.close();
  }

  it('is not logged with memory storage', async () => {
    await startAndStop({ fake });
    expect(warnings()).toEqual([]);
  });

  it('is not logged with TypeORM storage and an encryptionKey', async () => {
    await startAndStop({ fake, databaseUrl: `sqlite:${dir.path}/keyed.sqlite`, options: { encryptionKey: key } });
    expect(warnings()).toEqual([]);
  });

  it('is logged exactly once with TypeORM storage and no key, however many apps start, and says how to set a key', async () => {
    await startAndStop({ fake, databaseUrl: `sqlite:${dir.path}/plain.sqlite` });
    await startAndStop({ fake, databaseUrl: `sqlite:${dir.path}/plain.sqlite` });
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/^warn .*plain text.*encryptionKey.*TWITCH_AUTH_ENCRYPTION_KEY/);
  });
});
