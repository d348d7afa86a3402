/**
 * B2 / B2x: many callers need the same users' tokens at once.
 *
 * - `read` (B2): every user's token has expired; `callers` concurrent
 *   `getAccessToken(userId)` per user, all in flight together.
 * - `explicit` (B2x): valid tokens; `callers` concurrent explicit refreshes per
 *   user (`TokenService.refresh` / `RefreshingAuthProvider.refreshAccessTokenForUser`).
 *
 * FakeTwitch runs in its own process with single-use refresh tokens (as
 * Twitch has for public clients), so a second use of one refresh token is
 * recorded as a reuse and revokes that user's grant. Every round gives each
 * contender fresh users; contenders alternate.
 */
import { RefreshingAuthProvider } from '@twurple/auth';
import { runAsChild, reportProgress } from '../lib/child.js';
import { FakeTwitchProcess, type IssuedPair } from '../lib/fake-twitch.process-client.js';
import { redirectTwitchToFake } from '../lib/loopback-fetch.js';
import { createOurApp, type OurApp } from '../lib/nest-app.js';
import { rotate } from '../lib/stats.js';

export interface RefreshStormParams {
  mode: 'read' | 'explicit';
  users: number;
  callers: number;
  rounds: number;
  latencyMs: number;
}

/** One contender's round. */
export interface StormSample {
  round: number;
  wallMs: number;
  /** CPU time of this (the contender's) process during the storm; FakeTwitch's is not included. */
  cpuMs: number;
  /** Token requests with `grant_type=refresh_token` FakeTwitch received. */
  tokenRequests: number;
  /** Of those, answered with an error (e.g. a reused, hence revoked, refresh token). */
  tokenRequestsFailed: number;
  reusedRefreshTokens: number;
  calls: number;
  failedCalls: number;
  /** First failure message, for the notes. */
  firstError: string | null;
  /** Users whose stored/held token after the storm is one FakeTwitch issued in this storm. */
  usersRefreshed: number;
}

export interface RefreshStormResult {
  samples: Record<string, StormSample[]>;
}

const SCOPES = ['chat:read', 'chat:edit'];
const TOKEN_TTL_SECONDS = 4 * 3600;

interface Contender {
  seed(pairs: IssuedPair[]): Promise<void>;
  call(userId: string): Promise<unknown>;
  /** The access token the contender now holds for the user. */
  current(userId: string): Promise<string | null>;
}

async function main(params: RefreshStormParams): Promise<RefreshStormResult> {
  const fake = await FakeTwitchProcess.start({ latencyMs: params.latencyMs, accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  redirectTwitchToFake(fake.url);
  const ours = await createOurApp({ idBaseUrl: fake.url, clientId: fake.clientId, clientSecret: fake.clientSecret });
  const twurple = new RefreshingAuthProvider({ clientId: fake.clientId, clientSecret: fake.clientSecret });
  const contenders: Record<string, Contender> = {
    ours: oursContender(ours, params.mode),
    twurple: twurpleContender(twurple, params.mode),
  };

  const samples: Record<string, StormSample[]> = { ours: [], twurple: [] };
  let batch = 0;
  // Round 0 warms up both contenders (JIT, connection pool) and is not recorded.
  for (let round = 0; round <= params.rounds; round++) {
    for (const name of rotate(Object.keys(contenders), round)) {
      const contender = contenders[name];
      await fake.reset();
      const userIds = Array.from({ length: params.users }, (_, i) => `${900_000_000 + ++batch * 100_000 + i}`);
      const pairs = await fake.issue(userIds, SCOPES);
      await contender.seed(pairs);

      const started = process.hrtime.bigint();
      const cpuBefore = process.cpuUsage();
      const calls: Promise<unknown>[] = [];
      for (let caller = 0; caller < params.callers; caller++) {
        for (const userId of userIds) calls.push(contender.call(userId));
      }
      const settled = await Promise.allSettled(calls);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const cpu = process.cpuUsage(cpuBefore);

      const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      const stats = await fake.stats();
      let usersRefreshed = 0;
      for (const pair of pairs) {
        const now = await contender.current(pair.userId);
        if (now !== null && now !== pair.accessToken) usersRefreshed++;
      }
      if (round === 0) continue;
      samples[name].push({
        round,
        wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        tokenRequests: stats.refreshRequests,
        tokenRequestsFailed: stats.refreshFailures,
        reusedRefreshTokens: stats.reusedRefreshTokens,
        calls: calls.length,
        failedCalls: failures.length,
        firstError: failures.length > 0 ? describe(failures[0].reason) : null,
        usersRefreshed,
      });
      reportProgress(
        `round ${round}/${params.rounds} ${name}: ${wallMs.toFixed(0)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms), ${stats.refreshRequests} token requests, ` +
          `${stats.reusedRefreshTokens} reused, ${failures.length} failed calls`,
      );
    }
  }
  await ours.close();
  await fake.close();
  return { samples };
}

function oursContender(ours: OurApp, mode: RefreshStormParams['mode']): Contender {
  const { tokens } = ours;
  return {
    async seed(pairs) {
      const expiresAt = mode === 'read' ? new Date(Date.now() - 60_000) : new Date(Date.now() + TOKEN_TTL_SECONDS * 1000);
      for (const pair of pairs) await tokens.addToken(pair.userId, pair.accessToken, pair.refreshToken, SCOPES, { expiresAt });
    },
    call: mode === 'read' ? (userId) => tokens.getAccessToken(userId) : (userId) => tokens.refresh(userId),
    async current(userId) {
      return (await tokens.getUserToken(userId).catch(() => null))?.accessToken ?? null;
    },
  };
}

function twurpleContender(provider: RefreshingAuthProvider, mode: RefreshStormParams['mode']): Contender {
  return {
    async seed(pairs) {
      // An expired token: obtained two lifetimes ago. A valid one: obtained now.
      const obtainmentTimestamp = mode === 'read' ? Date.now() - 2 * TOKEN_TTL_SECONDS * 1000 : Date.now();
      for (const pair of pairs) {
        provider.addUser(pair.userId, {
          accessToken: pair.accessToken,
          refreshToken: pair.refreshToken,
          scope: SCOPES,
          expiresIn: TOKEN_TTL_SECONDS,
          obtainmentTimestamp,
        });
      }
    },
    call: mode === 'read' ? (userId) => provider.getAccessTokenForUser(userId) : (userId) => provider.refreshAccessTokenForUser(userId),
    async current(userId) {
      // Read twurple's held token without triggering a refresh (a cached failure throws here).
      try {
        return (await provider.getAccessTokenForUser(userId))?.accessToken ?? null;
      } catch {
        return null;
      }
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message.split('\n')[0]}` : String(error);
}

runAsChild(main);
