import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatRate, formatRatio, median, pairedRatio } from '../lib/stats.js';
import type { HelixCallsParams, HelixCallsResult } from '../workloads/helix-calls.js';

const SCRIPT = new URL('../workloads/helix-calls.js', import.meta.url);

/** B8: authenticated Helix calls; ours vs twurple's ApiClient vs a bare fetch with a fixed token. */
export async function runB8(plan: HelixCallsParams): Promise<SuiteOutcome> {
  const result = await runChild<HelixCallsResult>(SCRIPT, plan, { label: 'B8' });
  const ours = median(result.samples.ours);
  const twurple = median(result.samples.twurple);
  const bare = median(result.samples.fetch);
  const vsFetch = pairedRatio(result.samples.ours, result.samples.fetch);
  const vsTwurple = pairedRatio(result.samples.ours, result.samples.twurple);
  const clean = Object.values(result.failures).every((count) => count === 0);
  const workload = `${plan.calls.toLocaleString('en-US')} GET /users for one user token, ${plan.concurrency} concurrent, FakeTwitch in its own process, rate limits off (a bucket nobody can empty)`;
  const failed = (name: string): string => (result.failures[name] ? `; ${result.failures[name]} failed calls` : '');
  const rows: ResultRow[] = [
    {
      id: 'B8',
      workload,
      contender: 'ours: TwitchApiClient.getUsers (typed answer)',
      result: `${formatRate(ours)} calls/s${failed('ours')}`,
      comparison: `${formatRatio(vsFetch)} bare fetch, ${formatRatio(vsTwurple)} twurple`,
      target: '≥ 0.8 × bare fetch and ahead of twurple',
      met: met(clean && vsFetch >= 0.8 && vsTwurple > 1),
    },
    {
      id: 'B8',
      workload,
      contender: 'twurple: ApiClient + StaticAuthProvider, users.getUserById',
      result: `${formatRate(twurple)} calls/s${failed('twurple')}`,
      comparison: `${formatRatio(pairedRatio(result.samples.twurple, result.samples.fetch))} bare fetch`,
      target: '—',
      met: '—',
    },
    {
      id: 'B8',
      workload,
      contender: 'bare fetch with a fixed token (JSON parsed)',
      result: `${formatRate(bare)} calls/s${failed('fetch')}`,
      comparison: '—',
      target: '—',
      met: '—',
    },
  ];
  return {
    rows,
    notes: [
      `B8: ${plan.rounds} measured rounds (plus one warm-up round, dropped) of ${plan.calls.toLocaleString('en-US')} calls per contender with ${plan.concurrency} in flight; contenders alternate, rotated each round; one client process for all contenders, FakeTwitch in another. Ratios are medians of per-round ratios. FakeTwitch still sends Ratelimit headers (1,000,000,000 points per minute): in a first try without them, twurple 8.1.4's ApiClient left calls unanswered. twurple's calls to api.twitch.tv pass a \`fetch\` wrapper that rewrites the address to FakeTwitch (one string check per call); the bare fetch calls FakeTwitch directly.`,
    ],
    raw: { params: plan, ...result, medians: { ours, twurple, fetch: bare }, ratios: { vsFetch, vsTwurple } },
  };
}
