import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeTwitch, IssuedToken } from '../../src/twitch-auth/testing/index.js';
import { RecordingProxy, type RefreshPlan } from '../scheduling/support/recording-proxy.js';
import { createTestApp } from '../support/app.js';
import { ensureBuilt } from '../support/build.js';
import { seedDueToken, waitFor, within } from '../support/refresh-scenario.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { TokenProcess, killAllTokenProcesses, type TokenCallResult } from '../support/token-process.js';

/**
 * One process stores its tokens in a SQLite file and gets SIGTERM while a
 * refresh is in flight: Twitch has already rotated the refresh token, and
 * its answer is on the way. Refresh tokens are single-use, so the process
 * must wait for that answer and store it before its storage closes; a
 * process that exits first leaves the spent refresh token behind, and after
 * a restart the user must authorize again. Twitch's answer passes a
 * recording proxy that keeps it back until the test lets it go.
 */
const TWITCH_TIMEOUT_MS = 10_000;

interface Outcome {
  /** Refresh grants FakeTwitch received from the stopped process. */
  refreshRequests: number;
  /** Refresh tokens presented twice, counted after the restart's read and refresh. */
  reusedRefreshTokens: number;
  /** The stored refresh token is the one Twitch issued last (the seeded one when none was issued). */
  storedRefreshTokenIsLastIssued: boolean;
  /** What a fresh application on the same file gets for the user: `ok` or the error's name. */
  readAfterRestart: string;
  /** Whether Twitch still accepts that token (a reused refresh token revokes the whole grant). */
  readTokenValidAtTwitch: boolean;
  /** Whether that token is the one Twitch issued last. */
  readTokenIsLastIssued: boolean;
  /** A further refresh in the fresh application: `ok` or the error's name. */
  furtherRefresh: string;
}

describe('SIGTERM while a refresh is in flight, one process on a SQLite file', () => {
  let fake: FakeTwitch;
  let proxy: RecordingProxy;
  const dir = tempDir('twitch-auth-shutdown-');

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

  /** Seeds a due token in a fresh file and starts the process on it, with Twitch behind the proxy. */
  async function start(name: string, userId: string, maintenance: boolean) {
    const databaseUrl = `sqlite:${dir.path}/${name}.sqlite`;
    const seeder = await createTestApp({ fake, databaseUrl });
    let seed: IssuedToken;
    try {
      seed = await seedDueToken(fake, seeder, userId);
    } finally {
      await seeder.close();
    }
    const app = await TokenProcess.start(name, {
      databaseUrl,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret!,
      idBaseUrl: proxy.url,
      helixBaseUrl: fake.helixBaseUrl,
      timeoutMs: TWITCH_TIMEOUT_MS,
      maintenance: maintenance ? { enabled: true, tickSeconds: 1 } : { enabled: false },
    });
    return { databaseUrl, seed, app };
  }

  /** After the process exited: what Twitch saw, and what a fresh application on the same file gets. */
  async function outcome(databaseUrl: string, userId: string, seed: IssuedToken, exchangesBefore: number, requestsBefore: number) {
    const exchanges = proxy.exchanges.slice(exchangesBefore);
    const refreshRequests = fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' }) - requestsBefore;
    const lastIssued = exchanges.filter((e) => e.status === 200).at(-1);
    const fresh = await createTestApp({ fake, databaseUrl });
    try {
      const row = await fresh.repository.get(userId);
      // A lease the stopped process left behind would only make the check wait for it to lapse: release it as lapsed.
      const leaseLeftBehind = row?.leaseOwner ?? null;
      if (leaseLeftBehind) await fresh.repository.releaseLease(userId, leaseLeftBehind);
      const read = await fresh.tokens.getUserToken(userId).then(
        (token) => ({ name: 'ok', accessToken: token.accessToken }),
        (error: Error) => ({ name: error.name, accessToken: null }),
      );
      const furtherRefresh = await fresh.tokens.refresh(userId).then(
        () => 'ok',
        (error: Error) => error.name,
      );
      const result: Outcome = {
        refreshRequests,
        reusedRefreshTokens: fake.reusedRefreshTokens.length,
        storedRefreshTokenIsLastIssued: row?.refreshToken === (lastIssued?.issued ?? seed.refreshToken),
        readAfterRestart: read.name,
        readTokenValidAtTwitch: read.accessToken !== null && fake.isValid(read.accessToken),
        // With nothing issued the stored token is still due, so the read refreshes it: any token is right then.
        readTokenIsLastIssued: lastIssued ? read.accessToken === lastIssued.issuedAccessToken : read.name === 'ok',
        furtherRefresh,
      };
      return { result, exchanges, leaseLeftBehind: leaseLeftBehind !== null };
    } finally {
      await fresh.close();
    }
  }

  /** Whether the process said it waited for refreshes in flight (the wording is free; reported, not asserted). */
  function loggedWaiting(app: TokenProcess): boolean {
    return app.output.split('\n').some((line) => /wait/i.test(line) && /refresh/i.test(line));
  }

  /**
   * Starts the process, lets its refresh reach Twitch (`plans` say what the proxy does with each attempt),
   * sends SIGTERM once `beforeSignal` resolved, and lets the held answer go once `beforeRelease` resolved.
   */
  async function stopDuringRefresh(options: {
    name: string;
    userId: string;
    trigger: 'maintenance' | 'read';
    plans: RefreshPlan[];
    /** Resolves when the process should get SIGTERM; `attemptsBefore` counts the proxy's earlier refresh attempts. */
    signalWhen: (attemptsBefore: number) => Promise<void>;
    /** Resolves when the held answer should be let go. */
    releaseWhen: (app: TokenProcess) => Promise<void>;
  }) {
    const { name, userId } = options;
    const { databaseUrl, seed, app } = await start(name, userId, options.trigger === 'maintenance');
    const exchangesBefore = proxy.exchanges.length;
    const requestsBefore = fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' });
    const attemptsBefore = proxy.refreshAttempts.length;
    proxy.planRefreshes(...options.plans);
    let read: Promise<TokenCallResult> | null = null;
    if (options.trigger === 'read') read = app.call('getUserToken', userId, { timeoutMs: 90_000 });
    await options.signalWhen(attemptsBefore);
    const signalledAt = Date.now();
    app.kill('SIGTERM');
    await app.waitForEvent('shutdown-started', 15_000);
    await options.releaseWhen(app);
    const releasedAt = Date.now();
    proxy.releaseAnswers();
    const exit = (await within(app.exited, 60_000)) ?? null;
    const exitedAt = Date.now();
    if (exit === null) await app.stop('SIGKILL');
    const readResult = read ? await read : null;
    const { result, exchanges, leaseLeftBehind } = await outcome(databaseUrl, userId, seed, exchangesBefore, requestsBefore);
    console.info(
      `${name}: ${JSON.stringify(result)}; answer released ${releasedAt - signalledAt} ms after SIGTERM, ` +
        `exit ${exit ? `${exit.code ?? exit.signal}` : 'none within 60 s'} ${exitedAt - signalledAt} ms after it; ` +
        `read in the stopped process: ${readResult ? (readResult.ok ? 'ok' : readResult.error.name) : '-'}; ` +
        `logged waiting for a refresh: ${loggedWaiting(app)}; lease left behind: ${leaseLeftBehind}; ` +
        `refresh grants answered by Twitch: ${exchanges.length}`,
    );
    return { result, exit, loggedWaiting: loggedWaiting(app) };
  }

  const nothingLost: Outcome = {
    refreshRequests: 1,
    reusedRefreshTokens: 0,
    storedRefreshTokenIsLastIssued: true,
    readAfterRestart: 'ok',
    readTokenValidAtTwitch: true,
    readTokenIsLastIssued: true,
    furtherRefresh: 'ok',
  };

  /** The answer is held until the process exits, or for `graceMs` after the shutdown started, whichever comes first. */
  const exitOrAfter = (graceMs: number) => async (app: TokenProcess) => {
    await within(app.exited, graceMs);
  };

  it.each([
    { label: '(a)', by: 'maintenance', name: 'maintenance', userId: '81001', trigger: 'maintenance' as const },
    { label: '(b)', by: 'a read', name: 'read', userId: '81002', trigger: 'read' as const },
  ])(
    '$label a refresh started by $by is answered during the shutdown: stored, nothing lost',
    async ({ name, userId, trigger }) => {
      const { result, exit } = await stopDuringRefresh({
        name,
        userId,
        trigger,
        plans: ['holdAnswer'],
        signalWhen: () => waitFor('the refresh answer to be held', () => proxy.answersHeld === 1, 30_000),
        releaseWhen: exitOrAfter(3_000),
      });
      expect(result).toEqual(nothingLost);
      expect(exit).not.toBeNull();
    },
    90_000,
  );

  it('(c) a maintenance refresh whose retry is answered 15 s after SIGTERM (past the old 11 s patience): nothing lost', async () => {
    // Attempt 1 is swallowed (Twitch never sees it) and times out after 10 s; the retry reaches Twitch, whose
    // answer comes 7 s later: the refresh ends about 15 s after SIGTERM, well within its own worst case.
    const { result, exit } = await stopDuringRefresh({
      name: 'slow-retry',
      userId: '81003',
      trigger: 'maintenance',
      plans: ['swallow', 'holdAnswer'],
      signalWhen: async (attemptsBefore) => {
        await waitFor('the first refresh attempt', () => proxy.refreshAttempts.length > attemptsBefore, 30_000);
        await sleep(2_000);
      },
      releaseWhen: async (app) => {
        const retried = waitFor('the retry to reach Twitch', () => proxy.answersHeld === 1 || !app.running, 30_000);
        await retried;
        if (!app.running) return;
        const retriedAt = proxy.refreshAttempts.at(-1)!.at;
        await within(app.exited, Math.max(0, retriedAt + 7_000 - Date.now()));
      },
    });
    // A shutdown may also give up the retry rather than start it: then Twitch saw nothing and the seeded token stands.
    expect(result.refreshRequests).toBeLessThanOrEqual(1);
    expect({ ...result, refreshRequests: 1 }).toEqual(nothingLost);
    expect(exit).not.toBeNull();
  }, 90_000);
});
