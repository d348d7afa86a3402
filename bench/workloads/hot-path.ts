/**
 * B1 / B1s: a hot `getAccessToken(userId)` over many cached users, called in
 * a random order (the same order for every contender). Each sample awaits
 * `callsPerSample` calls one after another; contenders alternate within each
 * round (rotated so none always goes first); one warm-up round is dropped.
 */
import { RefreshingAuthProvider } from '@twurple/auth';
import { runAsChild, reportProgress } from '../lib/child.js';
import { createOurApp } from '../lib/nest-app.js';
import { rotate, seededRandom } from '../lib/stats.js';

export interface HotPathParams {
  users: number;
  callsPerSample: number;
  rounds: number;
  /** Ask for a scope every call (B1s) or not (B1). */
  scope: string | null;
  /** Include the `async (id) => map.get(id)` baseline. */
  baseline: boolean;
}

export interface HotPathResult {
  /** ops/s per contender, one per measured round. */
  samples: Record<string, number[]>;
  users: number;
  callsPerSample: number;
}

const SCOPES = ['chat:read', 'chat:edit', 'moderator:read:followers'];
const FAR_FUTURE_SECONDS = 365 * 24 * 3600;

type Call = (userId: string) => Promise<unknown>;

async function main(params: HotPathParams): Promise<HotPathResult> {
  const userIds = Array.from({ length: params.users }, (_, i) => String(10_000_000 + i));
  const accessTokens = userIds.map((id) => `access${id}${'x'.repeat(15)}`);
  const refreshTokens = userIds.map((id) => `refresh${id}${'y'.repeat(42)}`);

  const ours = await createOurApp();
  const expiresAt = new Date(Date.now() + FAR_FUTURE_SECONDS * 1000);
  for (let i = 0; i < userIds.length; i++) {
    await ours.tokens.addToken(userIds[i], accessTokens[i], refreshTokens[i], SCOPES, { expiresAt });
  }

  const twurple = new RefreshingAuthProvider({ clientId: 'fake-client-id', clientSecret: 'fake-client-secret' });
  const now = Date.now();
  for (let i = 0; i < userIds.length; i++) {
    twurple.addUser(userIds[i], {
      accessToken: accessTokens[i],
      refreshToken: refreshTokens[i],
      scope: SCOPES,
      expiresIn: FAR_FUTURE_SECONDS,
      obtainmentTimestamp: now,
    });
  }

  const map = new Map(userIds.map((id, i) => [id, accessTokens[i]]));

  // The scope list is built once, outside the loop, for both contenders alike.
  const wanted = params.scope === null ? null : [params.scope];
  const contenders: Record<string, Call> = {};
  if (wanted === null) {
    contenders.ours = (id) => ours.tokens.getAccessToken(id);
    contenders.twurple = (id) => twurple.getAccessTokenForUser(id);
  } else {
    contenders.ours = (id) => ours.tokens.getAccessToken(id, wanted);
    contenders.twurple = (id) => twurple.getAccessTokenForUser(id, wanted);
  }
  if (params.baseline) contenders.baseline = async (id) => map.get(id);

  await checkAnswers(contenders, userIds, accessTokens);

  const random = seededRandom(0xb1);
  const order = Uint32Array.from({ length: params.callsPerSample }, () => Math.floor(random() * userIds.length));
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  const names = Object.keys(contenders);
  for (let round = 0; round <= params.rounds; round++) {
    for (const name of rotate(names, round)) {
      const opsPerSecond = await measure(contenders[name], userIds, order);
      if (round > 0) samples[name].push(opsPerSecond);
    }
    if (round > 0) {
      reportProgress(
        `round ${round}/${params.rounds}: ${names.map((n) => `${n} ${(samples[n].at(-1)! / 1e6).toFixed(2)} M/s`).join(', ')}`,
      );
    }
  }
  await ours.close();
  return { samples, users: params.users, callsPerSample: params.callsPerSample };
}

/** Every contender must hand back the right token before it is timed. */
async function checkAnswers(contenders: Record<string, Call>, userIds: string[], accessTokens: string[]): Promise<void> {
  for (const [name, call] of Object.entries(contenders)) {
    for (const i of [0, 1, userIds.length >> 1, userIds.length - 1]) {
      const answer = await call(userIds[i]);
      const token = typeof answer === 'string' ? answer : (answer as { accessToken?: string } | null)?.accessToken;
      if (token !== accessTokens[i]) throw new Error(`B1: ${name} returned a wrong token for user ${userIds[i]}`);
    }
  }
}

/** Calls per second over one sample: every call awaited before the next starts. */
async function measure(call: Call, userIds: string[], order: Uint32Array): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < order.length; i++) {
    await call(userIds[order[i]]);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return order.length / seconds;
}

runAsChild(main);
