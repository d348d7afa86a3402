import { runChild } from '../lib/child.js';
import { met, type SuiteOutcome } from '../lib/report.js';
import { formatMs, formatRatio, median, sum } from '../lib/stats.js';
import type { HelixPacingParams, HelixPacingResult } from '../workloads/helix-pacing.js';

const SCRIPT = new URL('../workloads/helix-pacing.js', import.meta.url);

/** The bound on pacing: total time within 10 % of what the bucket allows. */
const PACING_TARGET = 1.1;

/** B8b: many calls for one token against a small bucket; measured time over the least time the bucket allows. */
export async function runB8b(plan: HelixPacingParams): Promise<SuiteOutcome> {
  const result = await runChild<HelixPacingResult>(SCRIPT, plan, { label: 'B8b', timeoutMs: 600_000 });
  const ratios = result.rounds.map((round) => round.measuredMs / round.allowedMs);
  const pacing = median(ratios);
  const worst = Math.max(...ratios);
  const tooMany = sum(result.rounds.map((round) => round.tooManyRequests));
  const failed = sum(result.rounds.map((round) => round.failedCalls));
  const seconds = plan.windowMs / 1000;
  return {
    rows: [
      {
        id: 'B8b',
        workload: `${plan.calls.toLocaleString('en-US')} GET /users for one user token, all asked at once, FakeTwitch bucket of ${plan.points} points per ${seconds} s`,
        contender: 'ours: TwitchApiClient, paced by the Ratelimit headers',
        result: `${formatMs(median(result.rounds.map((round) => round.measuredMs)))} for ${formatMs(median(result.rounds.map((round) => round.allowedMs)))} allowed; ${tooMany} × 429; ${failed} failed calls`,
        comparison: `${formatRatio(pacing)} the time the bucket allows (worst round ${formatRatio(worst)})`,
        target: `≤ ${PACING_TARGET.toFixed(2)} × allowed, 0 failed calls, no 429`,
        met: met(pacing <= PACING_TARGET && failed === 0 && tooMany === 0),
      },
    ],
    notes: [
      `B8b: ${plan.rounds} measured rounds (plus one warm-up round, dropped), each with a new user, so a fresh bucket at FakeTwitch and in the client. "Allowed" is the least time FakeTwitch's bucket permits: its windows are fixed, ${seconds} s long and aligned on the epoch, ${plan.points} points each, the first one fresh; every window is filled as fast as the same ${plan.calls.toLocaleString('en-US')} calls go against a second FakeTwitch whose bucket never empties (measured in the same round), the rest waits for the next window. So allowed time depends on where in a window a round starts: the measured rounds start at phases spread evenly over the window (round i of n at (i − 0.5) / n of it), and each round is compared with its own allowed time. The bucket is scaled down from Twitch's 800 points per minute to keep the run short; the pacing logic only reads the headers.`,
    ],
    raw: { params: plan, ...result, ratios, medians: { pacing }, worst },
  };
}
