import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule, DEMO_EVENTSUB_PATH } from './app.module.js';
import { DemoMetrics } from './demo/demo-metrics.js';
import { demoListenAddress, demoPublicOrigin, demoRedirectUri, sameHostAsCallback } from './demo/demo-origin.js';
import { FakeTwitch } from './twitch-auth/testing/index.js';

/**
 * Starts the demo. Without TWITCH_CLIENT_ID it starts the bundled FakeTwitch
 * on a loopback port and points itself at it, so it runs offline.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Demo');
  let fake: FakeTwitch | null = null;
  if (!process.env.TWITCH_CLIENT_ID) {
    fake = await FakeTwitch.start();
    process.env.TWITCH_CLIENT_ID = fake.clientId;
    process.env.TWITCH_CLIENT_SECRET = fake.clientSecret ?? '';
    process.env.TWITCH_ID_BASE_URL = fake.idBaseUrl;
    process.env.TWITCH_HELIX_BASE_URL = fake.helixBaseUrl;
    process.env.TWITCH_AUTH_DEMO_FAKE = '1';
    logger.warn(`TWITCH_CLIENT_ID is not set: running against FakeTwitch at ${fake.url} (offline mode, no real Twitch account involved).`);
  }
  // Before the app: the module takes its meter from the global provider when it starts.
  DemoMetrics.register();
  const app = await NestFactory.create(AppModule, { rawBody: true });
  app.enableShutdownHooks();
  const { port, host } = demoListenAddress();
  const { origin, callbackHere } = demoPublicOrigin();
  // The OAuth cookie must come back to the redirect URI's host: pages opened under another loopback name go there first.
  if (callbackHere) app.use(sameHostAsCallback(origin));
  await app.listen(port, host);
  logger.log(`Demo listening on ${origin}/`);
  if (!fake) {
    logger.log(`OAuth redirect URL to register for your app in the Twitch developer console: ${demoRedirectUri()}`);
  }
  if (!callbackHere) {
    logger.warn(
      `TWITCH_REDIRECT_URI (${demoRedirectUri()}) is not this demo's address (${origin}): authorizations complete only if it reaches this demo (a proxy or tunnel).`,
    );
  }
  if (process.env.TWITCH_EVENTSUB_SECRET) {
    logger.log(
      `EventSub webhooks are received at POST ${DEMO_EVENTSUB_PATH} (TWITCH_EVENTSUB_SECRET is set); each notification is logged.`,
    );
  } else {
    logger.log('EventSub is off: set TWITCH_EVENTSUB_SECRET (and TWITCH_PUBLIC_URL to subscribe) to receive webhooks.');
  }
  if (fake) {
    const stopFake = fake;
    process.once('beforeExit', () => void stopFake.close());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopFake.close());
  }
}

void bootstrap().catch((error: unknown) => {
  new Logger('Demo').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
