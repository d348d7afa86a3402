import { Injectable } from '@nestjs/common';
import {
  InMemoryTokenRepository,
  MissingScopesError,
  SIMPLE_MODE_INTENT,
  SimpleModeTokenRejectedError,
  TokenSourceWrongUserError,
  type NewStoredToken,
  type TokenSource,
  type TokenSourceRequest,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { caught, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

/** Resolves once `check` holds, asking again every few milliseconds (the test's own timeout bounds it). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('Every write lands exactly once, on the right row', () => {
  let fake: FakeTwitch;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.clearRequests();
    fake.clearFailures();
  });

  describe('simple mode', () => {
    it('a 500 from Twitch at boot does not lose the configured token: the first read waits for one shared seed attempt', async () => {
      const issued = fake.issueToken({ userId: '9500', scopes: ['chat:read'] });
      fake.failNext('validate', 1, 500);
      const t = await createTestApp({ fake, options: { token: { accessToken: issued.accessToken, refreshToken: issued.refreshToken } } });
      try {
        expect(await t.repository.findByIntent(SIMPLE_MODE_INTENT)).toBeNull();
        const tokens = await Promise.all(Array.from({ length: 5 }, () => t.tokens.getTokenForIntent(SIMPLE_MODE_INTENT, ['chat:read'])));
        for (const token of tokens) expect(token.accessToken).toBe(issued.accessToken);
        // One failed at boot, one for the attempt all five readers shared.
        expect(fake.countRequests({ path: '/oauth2/validate' })).toBe(2);
      } finally {
        await t.close();
      }
    });

    it('retries a transient failure in the background until the configured token is stored, without any read', async () => {
      const issued = fake.issueToken({ userId: '9501', scopes: ['chat:read'] });
      fake.failNext('validate', 2, 500);
      const t = await createTestApp({ fake, options: { token: { accessToken: issued.accessToken, refreshToken: issued.refreshToken } } });
      try {
        await eventually(async () => (await t.repository.findByIntent(SIMPLE_MODE_INTENT)) !== null);
        expect(await t.repository.get('9501')).toMatchObject({ intents: [SIMPLE_MODE_INTENT], status: 'valid' });
        expect(fake.countRequests({ path: '/oauth2/validate' })).toBe(3);
      } finally {
        await t.close();
      }
    });

    it('logs a configured token that cannot be used once, and reads say why instead of retrying', async () => {
      const issued = fake.issueToken({ userId: '9502', scopes: ['chat:read'] });
      fake.revokeToken(issued.accessToken);
      const logsBefore = capturedLogs.length;
      const t = await createTestApp({ fake, options: { token: { accessToken: issued.accessToken, refreshToken: issued.refreshToken } } });
      try {
        const requests = fake.requests.length;
        const errors = await Promise.all([1, 2, 3].map(() => caught(t.tokens.getTokenForIntent(SIMPLE_MODE_INTENT))));
        for (const error of errors) expect(error).toBeInstanceOf(SimpleModeTokenRejectedError);
        expect(fake.requests.length).toBe(requests);
        const reported = capturedLogs.slice(logsBefore).filter((line) => line.includes('Simple mode: the configured token cannot be used'));
        expect(reported).toHaveLength(1);
      } finally {
        await t.close();
      }
    });

    it('a configured token that works replaces a stored one Twitch revoked, though the stored row still says valid', async () => {
      const repository = new InMemoryTokenRepository();
      const first = fake.issueToken({ userId: '9510', scopes: ['chat:read'] });
      const boot1 = await createTestApp({
        fake,
        options: { storage: repository, token: { accessToken: first.accessToken, refreshToken: first.refreshToken } },
      });
      await boot1.close();
      // The user authorized again; the old grant is revoked but the stored row was never told.
      fake.revokeToken(first.accessToken);
      const second = fake.issueToken({ userId: '9510', scopes: ['chat:read'] });
      expect((await repository.get('9510'))!.status).toBe('valid');
      const boot2 = await createTestApp({
        fake,
        options: { storage: repository, token: { accessToken: second.accessToken, refreshToken: second.refreshToken } },
      });
      try {
        expect((await boot2.tokens.getTokenForIntent(SIMPLE_MODE_INTENT)).accessToken).toBe(second.accessToken);
        expect(await repository.get('9510')).toMatchObject({
          accessToken: second.accessToken,
          status: 'valid',
          intents: [SIMPLE_MODE_INTENT],
        });
      } finally {
        await boot2.close();
      }
    });
  });

  it('a TokenSource answering with the wrong user or too few scopes stores nothing', async () => {
    const answers: { accessToken: string; refreshToken: string }[] = [];
    @Injectable()
    class ScriptedSource implements TokenSource {
      async obtainToken(_request: TokenSourceRequest) {
        return answers.shift() ?? null;
      }
    }
    const t = await createTestApp({ fake, options: { tokenSource: ScriptedSource } });
    try {
      const b = fake.issueToken({ userId: '9521', scopes: ['chat:read', 'chat:edit'] });
      await t.tokens.addUser(b.accessToken, b.refreshToken, { intents: ['chat'] });
      const storedB = await t.repository.get('9521');

      // Asked for user 9520, the source hands over a narrower token of 9521.
      answers.push(fake.issueToken({ userId: '9521', scopes: ['chat:read'] }));
      const wrongUser = await caught(t.tokens.getUserToken('9520', ['chat:read']));
      expect(await t.repository.get('9521')).toEqual(storedB);
      expect(await t.repository.get('9520')).toBeNull();
      expect(wrongUser).toBeInstanceOf(TokenSourceWrongUserError);
      expect(wrongUser.message).toMatch(/user 9521 when user 9520 was asked for/);

      // Asked for more scopes of 9521, the source hands over a token that still lacks them.
      answers.push(fake.issueToken({ userId: '9521', scopes: ['chat:read'] }));
      const narrow = await caught(t.tokens.getUserToken('9521', ['moderator:read:followers']));
      expect(await t.repository.get('9521')).toEqual(storedB);
      expect(narrow).toBeInstanceOf(MissingScopesError);
    } finally {
      await t.close();
    }
  });

  it('a re-login racing an intent move on SQLite does not take the moved intent back', async () => {
    const dir = tempDir();
    const t = await createTestApp({ fake, databaseUrl: `sqlite:${dir.path}/tokens.sqlite` });
    try {
      const a = fake.issueToken({ userId: '9530', scopes: ['chat:read'] });
      const b = fake.issueToken({ userId: '9531', scopes: ['chat:read'] });
      await t.tokens.addUser(a.accessToken, a.refreshToken, { intents: ['chat', 'mod'] });
      await t.tokens.addUser(b.accessToken, b.refreshToken);

      // The move to 9531 lands after the re-login of 9530 started and before its row is written.
      const save = t.repository.save.bind(t.repository);
      let moved = false;
      t.repository.save = async (token: NewStoredToken) => {
        if (token.userId === '9530' && !moved) {
          moved = true;
          await t.tokens.addIntents('9531', ['chat']);
        }
        return save(token);
      };
      const again = fake.issueToken({ userId: '9530', scopes: ['chat:read'] });
      const info = await t.tokens.addUser(again.accessToken, again.refreshToken);

      expect(moved).toBe(true);
      expect(info.intents).toEqual(['mod']);
      expect((await t.repository.findByIntent('chat'))?.userId).toBe('9531');
      expect((await t.tokens.getTokenForIntent('chat')).userId).toBe('9531');
    } finally {
      await t.close();
      dir.remove();
    }
  });
});
