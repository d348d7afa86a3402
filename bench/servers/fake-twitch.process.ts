/**
 * FakeTwitch in its own process, so the 1,000 refreshes it serves in a storm
 * do not share an event loop with the contender being timed. Driven over IPC
 * by `FakeTwitchProcess` (bench/lib/fake-twitch.process-client.ts).
 */
import { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import type { FakeTwitchCommand, FakeTwitchReply } from '../lib/fake-twitch.process-client.js';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as {
    latencyMs?: number;
    accessTokenTtlSeconds?: number;
    helixRateLimit?: false | { points: number; windowMs: number };
  };
  const fake = await FakeTwitch.start({
    latencyMs: options.latencyMs ?? 0,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    helixRateLimit: options.helixRateLimit,
  });
  process.on('message', (command: FakeTwitchCommand) => {
    const reply = (value: unknown): void => {
      process.send!({ id: command.id, value } satisfies FakeTwitchReply);
    };
    switch (command.type) {
      case 'issue':
        reply(
          command.userIds.map((userId) => {
            const issued = fake.issueToken({ userId, scopes: command.scopes, expiresInSeconds: command.expiresInSeconds });
            return { userId, accessToken: issued.accessToken, refreshToken: issued.refreshToken };
          }),
        );
        break;
      case 'stats':
        reply({
          refreshRequests: fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' }),
          refreshFailures: fake.requests.filter((r) => r.path === '/oauth2/token' && r.grantType === 'refresh_token' && r.status !== 200)
            .length,
          validateRequests: fake.countRequests({ path: '/oauth2/validate' }),
          allRequests: fake.requests.length,
          reusedRefreshTokens: fake.reusedRefreshTokens.length,
        });
        break;
      case 'publishEventSub': {
        const sent: Promise<unknown>[] = [];
        for (let i = 0; i < command.count; i++) {
          sent.push(fake.publishEventSub(command.eventType, command.version, command.event, { condition: command.condition }));
        }
        void Promise.all(sent).then(() => reply(null));
        break;
      }
      case 'reset':
        // A fresh store per measurement keeps the request log and token maps small.
        fake.reset();
        reply(null);
        break;
      case 'close':
        void fake.close().then(() => {
          reply(null);
          process.exit(0);
        });
        break;
    }
  });
  process.send!({
    id: 0,
    value: { url: fake.url, eventSubWebSocketUrl: fake.eventSubWebSocketUrl, clientId: fake.clientId, clientSecret: fake.clientSecret },
  } satisfies FakeTwitchReply);
}

void main();
