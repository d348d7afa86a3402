import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatCount, formatMs, formatRatio, median, ratio, sum } from '../lib/stats.js';
import type { RefreshStormParams, RefreshStormResult, StormSample } from '../workloads/refresh-storm.js';

const SCRIPT = new URL('../workloads/refresh-storm.js', import.meta.url);

type Plan = { users: number; callers: number; rounds: number; latencyMs: number };

interface Totals {
  rounds: number;
  wallMedian: number;
  cpuMedian: number;
  tokenRequestsPerRound: number[];
  reused: number;
  failedCalls: number;
  calls: number;
  usersRefreshedPerRound: number[];
  firstError: string | null;
}

function totals(samples: StormSample[]): Totals {
  return {
    rounds: samples.length,
    wallMedian: median(samples.map((s) => s.wallMs)),
    cpuMedian: median(samples.map((s) => s.cpuMs)),
    tokenRequestsPerRound: samples.map((s) => s.tokenRequests),
    reused: sum(samples.map((s) => s.reusedRefreshTokens)),
    failedCalls: sum(samples.map((s) => s.failedCalls)),
    calls: sum(samples.map((s) => s.calls)),
    usersRefreshedPerRound: samples.map((s) => s.usersRefreshed),
    firstError: samples.find((s) => s.firstError !== null)?.firstError ?? null,
  };
}

function perRound(values: number[]): string {
  const distinct = [...new Set(values)];
  return distinct.length === 1 ? formatCount(distinct[0]) : values.map(formatCount).join('/');
}

function describeTotals(t: Totals): string {
  return (
    `wall ${formatMs(t.wallMedian)} (client CPU ${formatMs(t.cpuMedian)}); token requests/round ${perRound(t.tokenRequestsPerRound)}; ` +
    `reused refresh tokens ${formatCount(t.reused)}; failed calls ${formatCount(t.failedCalls)} of ${formatCount(t.calls)} (all rounds); ` +
    `users holding a fresh token/round ${perRound(t.usersRefreshedPerRound)}`
  );
}

async function runStorm(id: 'B2' | 'B2x', plan: Plan, mode: RefreshStormParams['mode']): Promise<SuiteOutcome> {
  const params: RefreshStormParams = { mode, ...plan };
  const result = await runChild<RefreshStormResult>(SCRIPT, params, { label: id });
  const ours = totals(result.samples.ours);
  const twurple = totals(result.samples.twurple);
  const exact = ours.tokenRequestsPerRound.every((n) => n === plan.users);
  const clean = exact && ours.reused === 0 && ours.failedCalls === 0;
  const wallRatio = ratio(ours.wallMedian, twurple.wallMedian);
  const workload =
    mode === 'read'
      ? `refresh storm: ${formatCount(plan.users)} expired users × ${plan.callers} concurrent getAccessToken`
      : `explicit refresh storm: ${formatCount(plan.users)} users × ${plan.callers} concurrent refresh(userId)`;
  const oursTarget =
    mode === 'read'
      ? `exactly ${formatCount(plan.users)} token requests, 0 reused, 0 failed calls; wall ≤ twurple`
      : `${formatCount(plan.users)} token requests, 0 reused, 0 failed calls`;
  const rows: ResultRow[] = [
    {
      id,
      workload,
      contender: mode === 'read' ? 'ours: TokenService.getAccessToken' : 'ours: TokenService.refresh',
      result: describeTotals(ours),
      comparison: `wall ${formatRatio(wallRatio)} twurple`,
      target: oursTarget,
      met: met(mode === 'read' ? clean && wallRatio <= 1 : clean),
    },
    {
      id,
      workload,
      contender: mode === 'read' ? 'twurple: getAccessTokenForUser' : 'twurple: refreshAccessTokenForUser',
      result: describeTotals(twurple),
      comparison: '—',
      target: '—',
      met: '—',
    },
  ];
  const notes: string[] = [];
  if (id === 'B2') {
    notes.push(
      `B2/B2x: FakeTwitch in its own process, ${plan.latencyMs} ms added to every answer, single-use refresh tokens (a reuse revokes the user's grant, as Twitch does for public clients); ${plan.rounds} rounds after one unrecorded warm-up round, contenders alternating, fresh users per contender per round; wall time = first call to last settled; client CPU = the contenders' process during the storm.`,
    );
  }
  if (twurple.firstError) notes.push(`${id}: twurple's first failure: ${twurple.firstError}`);
  if (ours.firstError) notes.push(`${id}: ours' first failure: ${ours.firstError}`);
  return { rows, notes, raw: { params, ...result } };
}

export function runB2(plan: Plan): Promise<SuiteOutcome> {
  return runStorm('B2', plan, 'read');
}

export function runB2x(plan: Plan): Promise<SuiteOutcome> {
  return runStorm('B2x', plan, 'explicit');
}
