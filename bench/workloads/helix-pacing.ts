/**
 * B8b: rate-limit pacing. `calls` `GET /users` calls for one user token, all
 * asked for at once through `TwitchApiClient`, against FakeTwitch enforcing a
 * bucket of `points` per `windowMs`. Each round measures how long they take
 * and compares it with the least time the bucket allows, computed from
 * FakeTwitch's model (fixed windows aligned on multiples of `windowMs` since
 * the epoch, `points` per window) and from how fast the same calls go when the
 * bucket never empties (a second FakeTwitch, measured in the same round).
 * Counts the 429s FakeTwitch sent and the calls that failed for their callers.
 * Measured rounds start at phases spread over the window.
 */
import { TwitchApiClient } from '../../src/twitch-auth/index.js';
import { runAsChild, reportProgress } from '../lib/child.js';
import { FakeTwitchProcess } from '../lib/fake-twitch.process-client.js';
import { createOurApp, type OurApp } from '../lib/nest-app.js';

export interface HelixPacingParams {
  calls: number;
  points: number;
  windowMs: number;
  rounds: number;
}

/** One round's figures. */
export interface HelixPacingRound {
  /** Epoch milliseconds when the limited calls were asked for. */
  startedAt: number;
  /** Wall time of the limited calls. */
  measuredMs: number;
  /** Wall time of the same number of calls when the bucket never empties. */
  unlimitedMs: number;
  /** The least wall time FakeTwitch's bucket allows at that speed, from `startedAt`. */
  allowedMs: number;
  /** 429 answers FakeTwitch sent during the limited calls. */
  tooManyRequests: number;
  /** Calls that rejected for their caller. */
  failedCalls: number;
  /** Answers of the limited calls per FakeTwitch window: `count@first–last` seconds into the window. */
  windows: string;
  /** Seconds into its window when the round started. */
  phaseSeconds: number;
}

export interface HelixPacingResult {
  rounds: HelixPacingRound[];
}

/**
 * The least time `calls` calls take from `startedAt` when at most `points`
 * fit in each window of `windowMs` (windows aligned on the epoch, the first
 * one fresh) and calls otherwise go at `callsPerMs`: every window is filled
 * as far as that speed allows, then the rest waits for the next window.
 */
function allowedDuration(startedAt: number, calls: number, points: number, windowMs: number, callsPerMs: number): number {
  let now = startedAt;
  let left = calls;
  for (;;) {
    const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
    const fit = Math.min(points, (windowEnd - now) * callsPerMs);
    if (left <= fit) return now + left / callsPerMs - startedAt;
    left -= Math.floor(fit);
    now = windowEnd;
  }
}

/** Asks for `calls` calls at once; resolves with the wall time, how many rejected, and when each answer came (epoch ms). */
async function burst(
  helix: TwitchApiClient,
  userId: string,
  calls: number,
): Promise<{ ms: number; failed: number; startedAt: number; answeredAt: number[] }> {
  const answeredAt: number[] = [];
  const startedAt = Date.now();
  const started = process.hrtime.bigint();
  const results = await Promise.allSettled(
    Array.from({ length: calls }, () => helix.get('/users', { auth: { userId } }).finally(() => answeredAt.push(Date.now()))),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, failed: results.filter((result) => result.status === 'rejected').length, startedAt, answeredAt };
}

/** `count@first–last` of the answers in each of FakeTwitch's windows, offsets in seconds into the window, to see where time went. */
function answersPerWindow(answeredAt: number[], windowMs: number): string {
  const windows = new Map<number, number[]>();
  for (const at of answeredAt) {
    const start = Math.floor(at / windowMs) * windowMs;
    windows.set(start, [...(windows.get(start) ?? []), at - start]);
  }
  return [...windows.values()]
    .map((offsets) => `${offsets.length}@${(Math.min(...offsets) / 1000).toFixed(2)}–${(Math.max(...offsets) / 1000).toFixed(2)} s`)
    .join(' | ');
}

/**
 * Where in a window round `round` starts, as a fraction: the measured rounds
 * spread evenly over the window, since how much of the first window is left
 * changes how the calls split over windows (the warm-up starts at 0).
 */
function phaseOf(round: number, rounds: number): number {
  return round === 0 ? 0 : (round - 0.5) / rounds;
}

/** Waits until `offsetMs` into one of FakeTwitch's windows (the next such instant). */
async function untilPhase(offsetMs: number, windowMs: number): Promise<void> {
  const now = Date.now();
  let target = Math.floor(now / windowMs) * windowMs + offsetMs;
  if (target <= now) target += windowMs;
  await new Promise((resolve) => setTimeout(resolve, target - now));
}

async function appFor(fake: FakeTwitchProcess): Promise<{ app: OurApp; helix: TwitchApiClient }> {
  const app = await createOurApp({ idBaseUrl: fake.url, clientId: fake.clientId, clientSecret: fake.clientSecret });
  return { app, helix: app.app.get(TwitchApiClient) };
}

async function main(params: HelixPacingParams): Promise<HelixPacingResult> {
  const limited = await FakeTwitchProcess.start({ latencyMs: 0, helixRateLimit: { points: params.points, windowMs: params.windowMs } });
  const open = await FakeTwitchProcess.start({ latencyMs: 0, helixRateLimit: { points: 1_000_000_000, windowMs: 60_000 } });
  const ours = { limited: await appFor(limited), open: await appFor(open) };
  const rounds: HelixPacingRound[] = [];
  // Round 0 warms both paths up (JIT, connections) and is dropped.
  for (let round = 0; round <= params.rounds; round++) {
    // A new user per round: a fresh bucket at FakeTwitch and in the client.
    const userId = String(5000 + round);
    const [openToken] = await open.issue([userId], [], 0);
    await ours.open.app.tokens.addToken(userId, openToken.accessToken, openToken.refreshToken, []);
    const unlimited = await burst(ours.open.helix, userId, params.calls);

    const [limitedToken] = await limited.issue([userId], [], 0);
    await ours.limited.app.tokens.addToken(userId, limitedToken.accessToken, limitedToken.refreshToken, []);
    const before = (await limited.stats()).tooManyRequests;
    await untilPhase(phaseOf(round, params.rounds) * params.windowMs, params.windowMs);
    const paced = await burst(ours.limited.helix, userId, params.calls);
    const tooManyRequests = (await limited.stats()).tooManyRequests - before;

    const allowedMs = allowedDuration(paced.startedAt, params.calls, params.points, params.windowMs, params.calls / unlimited.ms);
    const figures = {
      startedAt: paced.startedAt,
      measuredMs: paced.ms,
      unlimitedMs: unlimited.ms,
      allowedMs,
      tooManyRequests,
      failedCalls: paced.failed + unlimited.failed,
      windows: answersPerWindow(paced.answeredAt, params.windowMs),
      phaseSeconds: (paced.startedAt % params.windowMs) / 1000,
    };
    if (round > 0) rounds.push(figures);
    reportProgress(
      `B8b round ${round}${round === 0 ? ' (warm-up)' : ''}: ${Math.round(paced.ms)} ms for ${Math.round(allowedMs)} ms allowed from ${figures.phaseSeconds.toFixed(2)} s into a window, ${tooManyRequests} x 429, ${figures.failedCalls} failed; answers ${figures.windows}`,
    );
  }
  await ours.limited.app.close();
  await ours.open.app.close();
  await limited.close();
  await open.close();
  return { rounds };
}

runAsChild(main);
