import { TwitchAuthMaintenance, type TwitchAuthModuleOptions } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { RecordingProxy } from '../scheduling/support/recording-proxy.js';
import { createTestApp } from '../support/app.js';
import { ensureBuilt } from '../support/build.js';
import { gateLeases, seedDueToken, waitFor, watchReads } from '../support/refresh-scenario.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { TokenProcess, killAllTokenProcesses, type TokenCallResult } from '../support/token-process.js';

/**
 * `reportUnauthorized(userId, rejected)` says "Twitch refused this access
 * token": however many callers say it about one token, in however many
 * processes, and whatever refresh is already running, the user's token is
 * refreshed exactly once and every caller gets that one new token, never the
 * rejected one back. Refresh grants pass a recording proxy that slows the
 * token endpoint, so the callers overlap with the refresh in flight.
 */
const USER_SCOPES = ['chat:read'];

function tokenOf(result: TokenCallResult): string {
  return result.ok ? result.accessToken : `(${result.error.name})`;
}

describe('reportUnauthorized with one rejected token', () => {
  let fake: FakeTwitch;
  let proxy: RecordingProxy;
  const dir = tempDir('twitch-auth-unauthorized-');
  const refreshGrants = () => fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' });

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFake();
    proxy = await RecordingProxy.start(fake.idBaseUrl);
  }, 240_000);
  afterAll(async () => {
    await killAllTokenProcesses();
    await proxy?.close();
    await fake?.close();
    dir.remove();
  }, 60_000);
  afterEach(() => {
    proxy.answerDelayMs = 0;
    proxy.releaseAnswers();
  });

  /** Module options reaching Twitch's identity server through the proxy. */
  const throughProxy = (): Partial<TwitchAuthModuleOptions> => ({
    twitch: { idBaseUrl: proxy.url, helixBaseUrl: fake.helixBaseUrl, timeoutMs: 5_000 },
  });

  it('two processes on one SQLite file reporting it at the same moment: one refresh, one new token for both', async () => {
    const databaseUrl = `sqlite:${dir.path}/two-processes.sqlite`;
    const seeder = await createTestApp({ fake, databaseUrl });
    try {
      const userId = '82001';
      const issued = fake.issueToken({ userId, scopes: USER_SCOPES });
      await seeder.tokens.addToken(userId, issued.accessToken, issued.refreshToken, USER_SCOPES);
      const config = {
        databaseUrl,
        clientId: fake.clientId,
        clientSecret: fake.clientSecret!,
        idBaseUrl: proxy.url,
        helixBaseUrl: fake.helixBaseUrl,
      };
      const [first, second] = await Promise.all([TokenProcess.start('#1', config), TokenProcess.start('#2', config)]);
      const before = refreshGrants();
      const reusedBefore = fake.reusedRefreshTokens.length;
      proxy.answerDelayMs = 1_500;
      const [a, b] = await Promise.all([
        first.call('reportUnauthorized', userId, { accessToken: issued.accessToken }),
        second.call('reportUnauthorized', userId, { accessToken: issued.accessToken }),
      ]);
      const stored = await seeder.repository.get(userId);
      await Promise.all([first.stop('SIGTERM'), second.stop('SIGTERM')]);

      const outcome = {
        refreshRequests: refreshGrants() - before,
        reusedRefreshTokens: fake.reusedRefreshTokens.length - reusedBefore,
        bothGotTheSameToken: tokenOf(a) === tokenOf(b),
        neitherGotTheRejectedOne: a.ok && b.ok && a.accessToken !== issued.accessToken && b.accessToken !== issued.accessToken,
        storedIsTheOneTheyGot: stored?.accessToken === tokenOf(a),
        validAtTwitch: a.ok && fake.isValid(a.accessToken),
      };
      console.info(`two processes: ${JSON.stringify(outcome)}; answers: ${a.ok ? 'ok' : a.error.name}, ${b.ok ? 'ok' : b.error.name}`);
      expect(outcome).toEqual({
        refreshRequests: 1,
        reusedRefreshTokens: 0,
        bothGotTheSameToken: true,
        neitherGotTheRejectedOne: true,
        storedIsTheOneTheyGot: true,
        validAtTwitch: true,
      });
    } finally {
      await seeder.close();
    }
  }, 90_000);

  describe('in one process', () => {
    const databaseUrl = () => `sqlite:${dir.path}/one-process.sqlite`;

    it('(i) a report racing a maintenance refresh of the same user refreshes once, not twice', async () => {
      const app = await createTestApp({ fake, databaseUrl: databaseUrl(), options: throughProxy() });
      try {
        const userId = '82101';
        const seed = await seedDueToken(fake, app, userId);
        const reads = watchReads(app.repository);
        const before = refreshGrants();
        const reusedBefore = fake.reusedRefreshTokens.length;
        proxy.planRefreshes('holdAnswer');
        const tick = app.app.get(TwitchAuthMaintenance).runNow();
        await waitFor('the maintenance refresh to be in flight', () => proxy.answersHeld === 1, 15_000);
        const count = reads.count;
        const report = app.tokens.reportUnauthorized(userId, seed.accessToken).then(
          (token) => token.accessToken,
          (error: Error) => `(${error.name})`,
        );
        await reads.settled(count);
        proxy.releaseAnswers();
        const [summary, reported] = await Promise.all([tick, report]);
        const stored = await app.repository.get(userId);

        const outcome = {
          refreshRequests: refreshGrants() - before,
          reusedRefreshTokens: fake.reusedRefreshTokens.length - reusedBefore,
          maintenanceRefreshed: summary.refreshed,
          reportGotANewToken: reported !== seed.accessToken && fake.isValid(reported),
          storedIsTheReportedOne: stored?.accessToken === reported,
        };
        console.info(`report racing maintenance: ${JSON.stringify(outcome)}`);
        expect(outcome).toEqual({
          refreshRequests: 1,
          reusedRefreshTokens: 0,
          maintenanceRefreshed: 1,
          reportGotANewToken: true,
          storedIsTheReportedOne: true,
        });
      } finally {
        await app.close();
      }
    }, 60_000);

    it('(ii) a report of the current token is not answered by a running refresh that started from an older token', async () => {
      // Instance A starts a read refresh from token T and waits for the user's lease (held at a gate here);
      // meanwhile instance B refreshes T into T2. Twitch then rejects T2 and A's caller reports it: A must
      // refresh T2, not hand back T2, which is what its running refresh (it saw T replaced) ends with.
      const a = await createTestApp({ fake, databaseUrl: databaseUrl(), options: throughProxy() });
      const b = await createTestApp({ fake, databaseUrl: databaseUrl(), options: throughProxy() });
      try {
        const userId = '82201';
        await seedDueToken(fake, b, userId);
        const leases = gateLeases(a.repository);
        const readsOfA = watchReads(a.repository);
        const read = a.tokens.getUserToken(userId).then(
          (token) => token.accessToken,
          (error: Error) => `(${error.name})`,
        );
        await waitFor("A's read refresh to wait for the lease", () => leases.attempts > 0, 15_000);
        const before = refreshGrants();
        const reusedBefore = fake.reusedRefreshTokens.length;
        const replaced = (await b.tokens.refresh(userId)).accessToken;
        const count = readsOfA.count;
        const report = a.tokens.reportUnauthorized(userId, replaced).then(
          (token) => token.accessToken,
          (error: Error) => `(${error.name})`,
        );
        await readsOfA.settled(count);
        leases.open();
        const [, reported] = await Promise.all([read, report]);
        const stored = await a.repository.get(userId);

        const outcome = {
          refreshRequests: refreshGrants() - before,
          reusedRefreshTokens: fake.reusedRefreshTokens.length - reusedBefore,
          reportGotTheRejectedToken: reported === replaced,
          reportGotAValidToken: fake.isValid(reported),
          storedIsTheReportedOne: stored?.accessToken === reported,
        };
        console.info(`report during a stale read refresh: ${JSON.stringify(outcome)}`);
        // Two refreshes: B's, and the one the report asked for.
        expect(outcome).toEqual({
          refreshRequests: 2,
          reusedRefreshTokens: 0,
          reportGotTheRejectedToken: false,
          reportGotAValidToken: true,
          storedIsTheReportedOne: true,
        });
      } finally {
        await a.close();
        await b.close();
      }
    }, 60_000);

    it('(iii) twenty concurrent reports of one rejected token: one refresh, one new token for all', async () => {
      const app = await createTestApp({ fake, databaseUrl: databaseUrl(), options: throughProxy() });
      try {
        const userId = '82301';
        const issued = fake.issueToken({ userId, scopes: USER_SCOPES });
        await app.tokens.addToken(userId, issued.accessToken, issued.refreshToken, USER_SCOPES);
        const before = refreshGrants();
        const reusedBefore = fake.reusedRefreshTokens.length;
        proxy.answerDelayMs = 1_000;
        const reported = await Promise.all(
          Array.from({ length: 20 }, () =>
            app.tokens.reportUnauthorized(userId, issued.accessToken).then(
              (token) => token.accessToken,
              (error: Error) => `(${error.name})`,
            ),
          ),
        );
        const stored = await app.repository.get(userId);
        const distinct = [...new Set(reported)];

        const outcome = {
          refreshRequests: refreshGrants() - before,
          reusedRefreshTokens: fake.reusedRefreshTokens.length - reusedBefore,
          distinctTokens: distinct.length,
          rejectedOneHandedOut: distinct.includes(issued.accessToken),
          storedIsTheReportedOne: stored?.accessToken === distinct[0],
        };
        console.info(`twenty reports: ${JSON.stringify(outcome)}`);
        expect(outcome).toEqual({
          refreshRequests: 1,
          reusedRefreshTokens: 0,
          distinctTokens: 1,
          rejectedOneHandedOut: false,
          storedIsTheReportedOne: true,
        });
      } finally {
        await app.close();
      }
    }, 60_000);
  });
});
