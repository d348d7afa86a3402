import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatCount, formatRatio, sum } from '../lib/stats.js';
import type { MaintenanceRound, MaintenanceScaleParams, MaintenanceScaleResult } from '../workloads/maintenance-scale.js';

const SCRIPT = new URL('../workloads/maintenance-scale.js', import.meta.url);

/** Twitch's rates at a million users: every token validated hourly, and refreshed every 4 hours. */
const VALIDATIONS_PER_SECOND_PER_USER = 1 / 3600;
const REFRESHES_PER_SECOND_PER_USER = 1 / (4 * 3600);

/** Sizes of one B9 run. */
export interface MaintenanceScalePlan {
  users: number;
  slice: number;
  concurrency: number;
  /** Instances sharing the Postgres database in B9m. */
  instances: number;
}

/** The figures one run gives, summed over its instances. */
interface Figures {
  tokens: number;
  cpuMsPerToken: number;
  /** Maintenance CPU at the real rate for `users`, as a share of one core. */
  coreShare: number;
  maxRssMb: number;
  complete: boolean;
}

function figures(users: number, result: MaintenanceRound): Figures {
  const { instances, fake, refreshDue, validationDue, leasesLeft } = result;
  const tokens = sum(instances.map((i) => i.refreshed + i.validated));
  const cpuMsPerToken = sum(instances.map((i) => i.cpuMs)) / tokens;
  const perSecond = users * (VALIDATIONS_PER_SECOND_PER_USER + REFRESHES_PER_SECOND_PER_USER);
  const complete =
    sum(instances.map((i) => i.refreshed)) === refreshDue &&
    sum(instances.map((i) => i.validated)) === validationDue &&
    fake.refreshRequests === refreshDue &&
    fake.reusedRefreshTokens === 0 &&
    sum(instances.map((i) => i.failed)) === 0 &&
    leasesLeft === 0;
  return {
    tokens,
    cpuMsPerToken,
    coreShare: (cpuMsPerToken * perSecond) / 1000,
    maxRssMb: Math.max(...instances.map((i) => i.rssMb)),
    complete,
  };
}

function describe(users: number, result: MaintenanceRound, f: Figures): string {
  const { instances, fake, refreshDue, validationDue } = result;
  return (
    `${f.cpuMsPerToken.toFixed(3)} ms CPU per maintained token; ${(f.coreShare * 100).toFixed(1)} % of one core at ${formatCount(users)} users; ` +
    `RSS ${f.maxRssMb.toFixed(0)} MB (hot cache ${sum(instances.map((i) => i.cachedUsers))} users); ` +
    `refreshed ${sum(instances.map((i) => i.refreshed))}/${refreshDue}, validated ${sum(instances.map((i) => i.validated))}/${validationDue}, ` +
    `token requests ${fake.refreshRequests}, reused refresh tokens ${fake.reusedRefreshTokens}, failed ${sum(instances.map((i) => i.failed))}, leases left ${result.leasesLeft}`
  );
}

function run(plan: MaintenanceScalePlan, database: MaintenanceScaleParams['database'], rounds: number[]): Promise<MaintenanceScaleResult> {
  const params: MaintenanceScaleParams = { database, users: plan.users, slice: plan.slice, rounds, concurrency: plan.concurrency };
  return runChild<MaintenanceScaleResult>(SCRIPT, params, { label: `B9-${database}`, timeoutMs: 30 * 60_000 });
}

const TARGET = '≤ 0.3 ms CPU per token; ≤ 15 % of one core; RSS ≤ 300 MB; one refresh per due user, none reused';

/**
 * B9: maintenance at a million stored users, SQLite and Postgres, one
 * instance; B9m: a second slice on the same Postgres table maintained by
 * several instances at once, against the single instance's round.
 */
export async function runB9(plan: MaintenanceScalePlan): Promise<SuiteOutcome> {
  const rows: ResultRow[] = [];
  const sqlite = await run(plan, 'sqlite', [1]);
  const postgres = await run(plan, 'postgres', [1, plan.instances]);
  for (const [database, result] of [
    ['SQLite file', sqlite],
    ['Postgres', postgres],
  ] as const) {
    const round = result.rounds[0]!;
    const f = figures(plan.users, round);
    rows.push({
      id: 'B9',
      workload: `maintenance of ${formatCount(plan.slice)} due tokens among ${formatCount(plan.users)} stored, ${database}`,
      contender: `ours, 1 instance, concurrency ${plan.concurrency}`,
      result: describe(plan.users, round, f),
      comparison: '—',
      target: TARGET,
      met: met(f.complete && f.cpuMsPerToken <= 0.3 && f.coreShare <= 0.15 && f.maxRssMb <= 300),
    });
  }
  const one = figures(plan.users, postgres.rounds[0]!);
  const shared = postgres.rounds[1]!;
  const many = figures(plan.users, shared);
  const shares = shared.instances.map((i) => (i.refreshed + i.validated) / many.tokens);
  const even = shares.every((share) => Math.abs(share - 1 / plan.instances) <= 0.05);
  const cost = many.cpuMsPerToken / one.cpuMsPerToken;
  rows.push({
    id: 'B9m',
    workload: `maintenance of ${formatCount(plan.slice)} due tokens among ${formatCount(plan.users)} stored, Postgres`,
    contender: `ours, ${plan.instances} instances, concurrency ${plan.concurrency} each`,
    result:
      `shares ${shares.map((share) => `${(share * 100).toFixed(1)} %`).join(' / ')}; skipped ${sum(shared.instances.map((i) => i.skipped))}; ` +
      describe(plan.users, shared, many),
    comparison: `${formatRatio(cost)} the single instance's CPU per token`,
    target: `each share ${(100 / plan.instances).toFixed(0)} % ± 5 %; total CPU per token ≤ 1.2× one instance's; one refresh per due user`,
    met: met(even && cost <= 1.2 && many.complete && one.complete),
  });
  const notes = [
    `B9: ${formatCount(plan.users)} rows seeded as an hour of traffic leaves them (4-hour tokens, expiries and validation ages spread evenly), then ${formatCount(plan.slice)} made due as if the clock had moved on: ${Math.round(plan.slice * 0.2)} for refresh, the rest for validation (69 : 278 per second at a million users). FakeTwitch in its own process (no added latency) knows only those. CPU is the instance process's \`process.cpuUsage()\` (all threads, database driver included) over the ticks until nothing is due; the core share extrapolates it to ${formatCount(Math.round(plan.users * (VALIDATIONS_PER_SECOND_PER_USER + REFRESHES_PER_SECOND_PER_USER)))} maintained tokens per second. Nobody reads tokens, so the hot cache stays empty. Seeding: SQLite ${sqlite.seedSeconds.toFixed(0)} s (multi-row INSERTs), Postgres ${postgres.seedSeconds.toFixed(0)} s (generate_series).`,
    `B9m: after B9's Postgres round, ${formatCount(plan.slice)} more rows made due in the same table (as many filler rows removed) and ${plan.instances} processes started together on it, each claiming batches of due tokens (leased in the claiming statement, \`FOR UPDATE SKIP LOCKED\`); \`skipped\` counts due rows an instance saw leased by another and left alone without a statement.`,
  ];
  return { rows, notes, raw: { sqlite, postgres } };
}
