import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { OnEvent } from '@nestjs/event-emitter';
import {
  InMemoryTokenRepository,
  SIMPLE_MODE_INTENT,
  TokenRepository,
  TokenService,
  TwitchAuthConfigError,
  TwitchAuthModule,
  type NewStoredToken,
  type StoredToken,
  type TokenSource,
  type TokenSourceRequest,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { captureLogger, capturedLogs } from '../support/log-capture.js';
import { caught, startFake } from '../support/secrets-guard.js';

/** A user-written repository: it wraps the in-memory one and counts writes, to show DI swapping. */
@Injectable()
class AuditedTokenRepository extends InMemoryTokenRepository {
  static saves = 0;
  override async save(token: NewStoredToken): Promise<StoredToken> {
    AuditedTokenRepository.saves++;
    return super.save(token);
  }
}

describe('TwitchAuthModule options and wiring', () => {
  let fake: FakeTwitch;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  it.each([
    [{ clientId: '' }, /clientId is required/],
    [{ clientId: 'x', redirectUri: 'not a url' }, /redirectUri must be an absolute http\(s\) URL/],
    [{ clientId: 'x', defaultScopes: ['chat read'] }, /defaultScopes contains "chat read"/],
    [{ clientId: 'x', maintenance: { validateEverySeconds: 7200 } }, /validateEverySeconds is 7200; Twitch requires/],
    [{ clientId: 'x', maintenance: { concurrency: 0 } }, /maintenance\.concurrency must be a positive integer/],
    [{ clientId: 'x', eventSub: { secret: 'short' } }, /eventSub\.secret must be 10 to 100/],
    [{ clientId: 'x', twitch: { timeoutMs: -1 } }, /twitch\.timeoutMs must be a positive number/],
    [{ clientId: 'x', storage: 'redis' as never }, /storage must be 'memory', 'typeorm'/],
  ])('forRoot rejects %j with a message naming the option', (options, message) => {
    expect(() => TwitchAuthModule.forRoot(options)).toThrow(TwitchAuthConfigError);
    expect(() => TwitchAuthModule.forRoot(options)).toThrow(message);
  });

  it('a bad encryptionKey fails at boot, naming the option and how to make one', async () => {
    const error = await caught(createTestApp({ fake, options: { encryptionKey: 'too-short' } }));
    expect(error.message).toMatch(/encryptionKey must be 32 random bytes/);
  });

  it('swaps the repository for a user-written class through DI', async () => {
    const t = await createTestApp({ fake, options: { storage: AuditedTokenRepository } });
    try {
      expect(t.repository).toBeInstanceOf(AuditedTokenRepository);
      const issued = fake.issueToken({ userId: '9001', scopes: ['chat:read'] });
      await t.tokens.addUser(issued.accessToken, issued.refreshToken);
      expect(AuditedTokenRepository.saves).toBe(1);
      expect((await t.repository.get('9001'))!.userId).toBe('9001');
    } finally {
      await t.close();
    }
  });

  it('forRootAsync reads its options from ConfigService', async () => {
    const env = { TWITCH_CLIENT_ID: fake.clientId, TWITCH_CLIENT_SECRET: fake.clientSecret!, TWITCH_ID_BASE_URL: fake.idBaseUrl };
    @Module({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => env] }),
        TwitchAuthModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            clientId: config.getOrThrow<string>('TWITCH_CLIENT_ID'),
            clientSecret: config.get<string>('TWITCH_CLIENT_SECRET'),
            twitch: { idBaseUrl: config.get<string>('TWITCH_ID_BASE_URL') },
            maintenance: { enabled: false },
          }),
        }),
      ],
    })
    class AsyncRoot {}
    const app = await NestFactory.createApplicationContext(AsyncRoot, { logger: captureLogger });
    try {
      const app2 = await app.get(TokenService).getAppToken();
      expect(fake.isValid(app2.accessToken)).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('forRootAsync factories are validated too', async () => {
    @Module({ imports: [TwitchAuthModule.forRootAsync({ useFactory: () => ({ clientId: 'x', twitch: { idBaseUrl: 'ftp://nope' } }) })] })
    class BadAsyncRoot {}
    const error = await caught(NestFactory.createApplicationContext(BadAsyncRoot, { logger: captureLogger, abortOnError: false }));
    expect(error.message).toMatch(/twitch\.idBaseUrl must be an http\(s\) URL/);
  });

  it('simple mode seeds the configured token at boot under the "default" intent, and never replaces a newer stored one', async () => {
    const repository = new InMemoryTokenRepository();
    const issued = fake.issueToken({ userId: '9100', scopes: ['chat:read'] });
    const first = await createTestApp({
      fake,
      options: { storage: repository, token: { accessToken: issued.accessToken, refreshToken: issued.refreshToken } },
    });
    try {
      const token = await first.tokens.getTokenForIntent(SIMPLE_MODE_INTENT);
      expect(token.userId).toBe('9100');
      await first.tokens.refresh('9100');
    } finally {
      await first.close();
    }
    // Restart with the same (now stale) configured token: the refreshed stored token wins.
    const stored = await repository.get('9100');
    const second = await createTestApp({
      fake,
      options: { storage: repository, token: { accessToken: issued.accessToken, refreshToken: issued.refreshToken } },
    });
    try {
      expect((await second.tokens.getTokenForIntent(SIMPLE_MODE_INTENT)).accessToken).toBe(stored!.accessToken);
      expect(fake.reusedRefreshTokens).toHaveLength(0);
    } finally {
      await second.close();
    }
  });

  it('a TokenSource is asked when no token fits, and what it returns is validated and stored', async () => {
    const asked: TokenSourceRequest[] = [];
    @Injectable()
    class IssuingSource implements TokenSource {
      async obtainToken(request: TokenSourceRequest) {
        asked.push(request);
        if (request.userId === 'unknown-to-source') return null;
        const issued = fake.issueToken({ userId: request.userId ?? '9300', scopes: request.scopes });
        return { accessToken: issued.accessToken, refreshToken: issued.refreshToken };
      }
    }
    const t = await createTestApp({ fake, options: { tokenSource: IssuingSource } });
    try {
      const [a, b] = await Promise.all([t.tokens.getUserToken('9200', ['chat:read']), t.tokens.getUserToken('9200', ['chat:read'])]);
      expect(a.accessToken).toBe(b.accessToken);
      expect(asked).toEqual([{ userId: '9200', intent: null, scopes: ['chat:read'], reason: 'not_found' }]);
      expect((await t.tokens.getTokenInfo('9200'))!.lastValidatedAt).not.toBeNull();

      const wider = await t.tokens.getUserToken('9200', ['chat:read', 'chat:edit']);
      expect(wider.scopes).toEqual(['chat:read', 'chat:edit']);
      expect(asked[1]).toMatchObject({ reason: 'missing_scopes' });

      const viaIntent = await t.tokens.getTokenForIntent('chat', ['chat:read']);
      expect(viaIntent.userId).toBe('9300');
      expect((await t.tokens.getTokenInfo('9300'))!.intents).toEqual(['chat']);

      const error = await caught(t.tokens.getUserToken('unknown-to-source'));
      expect(error.name).toBe('TokenNotFoundError');
    } finally {
      await t.close();
    }
  });

  it('a token-event listener that rejects is logged and affects neither the caller nor the process', async () => {
    @Injectable()
    class FailingListener {
      calls = 0;
      @OnEvent('twitch.token.added', { suppressErrors: false })
      async onAdded(): Promise<void> {
        this.calls++;
        throw new Error('listener exploded');
      }
    }
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const t = await createTestApp({ fake, providers: [FailingListener] });
    try {
      const issued = fake.issueToken({ userId: '9400', scopes: ['chat:read'] });
      const info = await t.tokens.addUser(issued.accessToken, issued.refreshToken);
      expect(info.userId).toBe('9400');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(t.app.get(FailingListener).calls).toBe(1);
      expect(capturedLogs.some((line) => line.includes('A listener of twitch.token.added failed: listener exploded'))).toBe(true);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      await t.close();
    }
  });

  it('exports TokenRepository under the same name as its injection token', async () => {
    const t = await createTestApp({ fake });
    try {
      expect(t.app.get(TokenRepository)).toBe(t.repository);
      expect(capturedLogs.some((line) => line.includes('Tokens are kept in memory'))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
