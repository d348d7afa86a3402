/**
 * B8: `GET /users` calls for one user token, `concurrency` in flight at a
 * time, against FakeTwitch in its own process with a bucket too large to
 * empty (rate limits in effect off, headers still sent). Three
 * contenders make the same calls with the same token: ours
 * (`TwitchApiClient.getUsers`, typed answer), twurple (`ApiClient` with its
 * `StaticAuthProvider`, `users.getUserById`, typed answer) and a bare
 * `fetch` with the fixed token (parsed JSON). Contenders alternate within
 * each round (rotated); one warm-up round is dropped.
 */
import { ApiClient } from '@twurple/api';
import { StaticAuthProvider } from '@twurple/auth';
import { TwitchApiClient } from '../../src/twitch-auth/index.js';
import { runAsChild, reportProgress } from '../lib/child.js';
import { FakeTwitchProcess } from '../lib/fake-twitch.process-client.js';
import { redirectTwitchToFake } from '../lib/loopback-fetch.js';
import { createOurApp } from '../lib/nest-app.js';
import { rotate } from '../lib/stats.js';

export interface HelixCallsParams {
  calls: number;
  concurrency: number;
  rounds: number;
}

export interface HelixCallsResult {
  /** calls/s per contender, one per measured round. */
  samples: Record<string, number[]>;
  /** Calls that failed, per contender, over every round (warm-up included). */
  failures: Record<string, number>;
}

const USER_ID = '4242';

type Call = () => Promise<unknown>;

/** Runs `calls` calls with `concurrency` in flight; resolves with calls/s and the failure count. */
async function measure(call: Call, calls: number, concurrency: number): Promise<{ rate: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++;
      try {
        await call();
      } catch {
        failed++;
      }
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rate: calls / seconds, failed };
}

async function main(params: HelixCallsParams): Promise<HelixCallsResult> {
  // Rate limits "off" as a bucket nobody can empty: without Ratelimit headers, twurple 8.1.4's ApiClient left calls unanswered (seen in a first try).
  const fake = await FakeTwitchProcess.start({ latencyMs: 0, helixRateLimit: { points: 1_000_000_000, windowMs: 60_000 } });
  const bareFetch = globalThis.fetch;
  redirectTwitchToFake(fake.url);
  const [issued] = await fake.issue([USER_ID], [], 0);

  const ours = await createOurApp({ idBaseUrl: fake.url, clientId: fake.clientId, clientSecret: fake.clientSecret });
  await ours.tokens.addToken(USER_ID, issued.accessToken, issued.refreshToken, []);
  const helix = ours.app.get(TwitchApiClient);
  const twurple = new ApiClient({
    authProvider: new StaticAuthProvider(fake.clientId, issued.accessToken),
    logger: { minLevel: 'critical' },
  });
  const url = `${fake.url}/helix/users?id=${USER_ID}`;
  const headers = { Authorization: `Bearer ${issued.accessToken}`, 'Client-Id': fake.clientId };

  const contenders: Record<string, Call> = {
    ours: () => helix.getUsers({ ids: [USER_ID], auth: { userId: USER_ID } }),
    twurple: () => twurple.users.getUserById(USER_ID),
    fetch: async () => {
      const response = await bareFetch(url, { headers });
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      return response.json();
    },
  };
  const samples: Record<string, number[]> = { ours: [], twurple: [], fetch: [] };
  const failures: Record<string, number> = { ours: 0, twurple: 0, fetch: 0 };
  for (let round = 0; round <= params.rounds; round++) {
    for (const name of rotate(Object.keys(contenders), round)) {
      const { rate, failed } = await measure(contenders[name], params.calls, params.concurrency);
      failures[name] += failed;
      if (round > 0) samples[name].push(rate);
      reportProgress(`B8 round ${round}${round === 0 ? ' (warm-up)' : ''}: ${name} ${Math.round(rate)} calls/s`);
    }
  }
  await ours.close();
  await fake.close();
  return { samples, failures };
}

runAsChild(main);
