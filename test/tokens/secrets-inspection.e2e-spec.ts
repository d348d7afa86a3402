import { ModulesContainer } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { TWITCH_AUTH_MODULE_OPTIONS, TwitchAuthModule } from '../../src/twitch-auth/index.js';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../../src/twitch-auth/twitch-auth.constants.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp } from '../support/app.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';

const EVENTSUB_SECRET = 'inspection-eventsub-secret-0123';
const PREVIOUS_EVENTSUB_SECRET = 'inspection-previous-secret-4567';

describe('secrets and inspection', () => {
  let fake: FakeTwitch;
  const keyBytes = randomBytes(32);
  const encryptionKey = keyBytes.toString('base64');
  guardSecret(encryptionKey);

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  it("no provider or controller of the app shows a secret, however deep it is inspected, and the options' JSON hides them too", async () => {
    const seeded = fake.issueToken({ userId: '7001', scopes: ['chat:read'] });
    const stored = fake.issueToken({ userId: '7002', scopes: ['chat:read'] });
    const t = await createTestApp({
      fake,
      options: {
        encryptionKey,
        eventSub: { secret: EVENTSUB_SECRET, previousSecrets: [PREVIOUS_EVENTSUB_SECRET] },
        token: { accessToken: seeded.accessToken, refreshToken: seeded.refreshToken },
      },
    });
    try {
      await t.tokens.addToken('7002', stored.accessToken, stored.refreshToken, ['chat:read']);
      // Both tokens are now in the repository, the cache and the settled promises of the hot path.
      expect(await t.tokens.getAccessToken('7001')).toBe(seeded.accessToken);
      expect(await t.tokens.getAccessToken('7002')).toBe(stored.accessToken);

      const secrets = [
        fake.clientSecret!,
        encryptionKey,
        keyBytes.toString('hex'),
        inspect(keyBytes).slice('<Buffer '.length, -1).slice(0, 20),
        EVENTSUB_SECRET,
        PREVIOUS_EVENTSUB_SECRET,
        seeded.accessToken,
        seeded.refreshToken,
        stored.accessToken,
        stored.refreshToken,
      ];
      // Every provider and controller the module registers (Nest adds ModuleRef and ApplicationConfig to each module:
      // those reach the whole container, the app's own objects included, and are left out).
      const twitchAuth = [...t.app.get(ModulesContainer).values()].find((module) => module.metatype === TwitchAuthModule)!;
      const instances = [...twitchAuth.providers.values(), ...twitchAuth.controllers.values()]
        .map((wrapper) => ({ name: String(wrapper.name), instance: wrapper.instance }))
        .filter(({ name }) => name !== 'ModuleRef' && name !== 'ApplicationConfig');
      const names = instances.map((entry) => entry.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'TokenService',
          'TokenCache',
          'InMemoryTokenRepository',
          'TokenCipher',
          'EventSubReceiver',
          'OAuthController',
        ]),
      );
      for (const { name, instance } of instances) {
        // The options object exactly as the app passed it to forRoot: the app's own, left as it is.
        if (name === String(TWITCH_AUTH_MODULE_OPTIONS)) continue;
        const rendering = inspect(instance, { depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity });
        for (const secret of secrets) {
          if (rendering.includes(secret)) throw new Error(`inspecting ${name} shows a secret`);
        }
      }

      const options = t.app.get(TWITCH_AUTH_RESOLVED_OPTIONS) as { clientSecret: string };
      const json = JSON.stringify(options);
      for (const secret of secrets) expect(json.includes(secret)).toBe(false);
      expect(JSON.parse(json)).toMatchObject({ clientSecret: '[hidden]', encryptionKey: '[hidden]', eventSub: { secret: '[hidden]' } });
      // Hidden from view only: the providers still read the real values.
      expect(options.clientSecret).toBe(fake.clientSecret);
    } finally {
      await t.close();
    }
  });
});
