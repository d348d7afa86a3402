import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatRate, formatRatio, median, pairedRatio } from '../lib/stats.js';
import type { HotPathParams, HotPathResult } from '../workloads/hot-path.js';

const SCRIPT = new URL('../workloads/hot-path.js', import.meta.url);

/** B1: hot getAccessToken over cached users; ours vs twurple vs a bare Map behind an async function. */
export async function runB1(plan: { users: number; callsPerSample: number; rounds: number }): Promise<SuiteOutcome> {
  const params: HotPathParams = { ...plan, scope: null, baseline: true };
  const result = await runChild<HotPathResult>(SCRIPT, params, { label: 'B1' });
  const ours = median(result.samples.ours);
  const twurple = median(result.samples.twurple);
  const baseline = median(result.samples.baseline);
  const vsBaseline = pairedRatio(result.samples.ours, result.samples.baseline);
  const vsTwurple = pairedRatio(result.samples.ours, result.samples.twurple);
  const workload = `hot getAccessToken, ${result.users.toLocaleString('en-US')} cached users, random order`;
  const rows: ResultRow[] = [
    {
      id: 'B1',
      workload,
      contender: 'ours: TokenService.getAccessToken (memory storage, maintenance off)',
      result: `${formatRate(ours)} calls/s`,
      comparison: `${formatRatio(vsBaseline)} baseline, ${formatRatio(vsTwurple)} twurple`,
      target: '≥ 0.5 × baseline and ahead of twurple',
      met: met(vsBaseline >= 0.5 && vsTwurple > 1),
    },
    {
      id: 'B1',
      workload,
      contender: 'twurple: RefreshingAuthProvider.getAccessTokenForUser',
      result: `${formatRate(twurple)} calls/s`,
      comparison: `${formatRatio(pairedRatio(result.samples.twurple, result.samples.baseline))} baseline`,
      target: '—',
      met: '—',
    },
    {
      id: 'B1',
      workload,
      contender: 'baseline: async (id) => map.get(id)',
      result: `${formatRate(baseline)} calls/s`,
      comparison: '—',
      target: '—',
      met: '—',
    },
  ];
  return {
    rows,
    notes: [
      `B1/B1s: ${plan.rounds} measured rounds (plus one warm-up round, dropped) of ${plan.callsPerSample.toLocaleString('en-US')} sequentially awaited calls per contender; contenders alternate, rotated each round; one process for all contenders. Ratios are medians of the per-round ratios (each round's samples were taken moments apart).`,
    ],
    raw: { params, ...result, medians: { ours, twurple, baseline }, ratios: { vsBaseline, vsTwurple } },
  };
}

/** B1s: the same with one required scope per call. */
export async function runB1s(plan: { users: number; callsPerSample: number; rounds: number }): Promise<SuiteOutcome> {
  const params: HotPathParams = { ...plan, scope: 'chat:read', baseline: false };
  const result = await runChild<HotPathResult>(SCRIPT, params, { label: 'B1s' });
  const ours = median(result.samples.ours);
  const twurple = median(result.samples.twurple);
  const vsTwurple = pairedRatio(result.samples.ours, result.samples.twurple);
  const workload = `B1 with a required scope (\`chat:read\`) on every call`;
  return {
    rows: [
      {
        id: 'B1s',
        workload,
        contender: "ours: getAccessToken(id, ['chat:read'])",
        result: `${formatRate(ours)} calls/s`,
        comparison: `${formatRatio(vsTwurple)} twurple`,
        target: 'ahead of twurple',
        met: met(vsTwurple > 1),
      },
      {
        id: 'B1s',
        workload,
        contender: "twurple: getAccessTokenForUser(id, ['chat:read'])",
        result: `${formatRate(twurple)} calls/s`,
        comparison: '—',
        target: '—',
        met: '—',
      },
    ],
    notes: [],
    raw: { params, ...result, medians: { ours, twurple }, ratios: { vsTwurple } },
  };
}
