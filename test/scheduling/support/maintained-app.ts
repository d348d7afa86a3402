import { EventEmitter2 } from '@nestjs/event-emitter';
import { TwitchAuthMaintenance, type TwitchAuthModuleOptions } from '../../../src/twitch-auth/index.js';
import type { FakeTwitch, RecordedRequest } from '../../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../../support/app.js';

/** A test app with maintenance on (it is off in `createTestApp` by default). */
export interface MaintainedApp extends TestApp {
  maintenance: TwitchAuthMaintenance;
  /** Every `twitch.token.revoked`, with the (fake) instant it was emitted. */
  revocations: { userId: string; at: number }[];
}

/** Starts an app against `fake` whose scheduler runs with `maintenance` (defaults otherwise). */
export async function maintainedApp(
  fake: FakeTwitch,
  maintenance: NonNullable<TwitchAuthModuleOptions['maintenance']> = {},
  options: Partial<TwitchAuthModuleOptions> = {},
): Promise<MaintainedApp> {
  const t = await createTestApp({ fake, options: { ...options, maintenance: { enabled: true, ...maintenance } } });
  const revocations: MaintainedApp['revocations'] = [];
  t.app
    .get(EventEmitter2)
    .on('twitch.token.revoked', (payload: { userId: string }) => revocations.push({ userId: payload.userId, at: Date.now() }));
  return { ...t, maintenance: t.app.get(TwitchAuthMaintenance), revocations };
}

/** Refresh-token grants FakeTwitch received at or after `since` (fake clock). */
export function refreshRequests(fake: FakeTwitch, since = 0): RecordedRequest[] {
  return fake.requests.filter((r) => r.path === '/oauth2/token' && r.grantType === 'refresh_token' && r.at >= since);
}

/** Validations FakeTwitch received for `accessToken`. */
export function validationsOf(fake: FakeTwitch, accessToken: string): RecordedRequest[] {
  return fake.requests.filter((r) => r.path === '/oauth2/validate' && r.headers.authorization === `OAuth ${accessToken}`);
}
