import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatCount, formatRatio, median, sum } from '../lib/stats.js';
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
  /** B9m: rounds of one instance and of `instances`, alternating on the one database; the ratio is the median of the pairs'. */
  pairs: number;
  /** FakeTwitch answers after this long, about a real round trip to Twitch. */
  latencyMs: number;
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
  const params: MaintenanceScaleParams = {
    database,
    users: plan.users,
    slice: plan.slice,
    rounds,
    concurrency: plan.concurrency,
    latencyMs: plan.latencyMs,
  };
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
  const postgres = await run(plan, 'postgres', Array.from({ length: plan.pairs }, () => [1, plan.instances]).flat());
  const singles = postgres.rounds.filter((round) => round.instances.length === 1);
  const shared = postgres.rounds.filter((round) => round.instances.length > 1);
  // B9 on Postgres reports the median of the single-instance rounds.
  const typical = [...singles].sort((a, b) => figures(plan.users, a).cpuMsPerToken - figures(plan.users, b).cpuMsPerToken)[
    Math.floor((singles.length - 1) / 2)
  ]!;
  for (const [database, round, extra] of [
    ['SQLite file', sqlite.rounds[0]!, ''],
    [
      'Postgres',
      typical,
      singles.length > 1
        ? ` (median of ${singles.length} rounds: ${singles.map((r) => figures(plan.users, r).cpuMsPerToken.toFixed(3)).join(' / ')} ms)`
        : '',
    ],
  ] as const) {
    const f = figures(plan.users, round);
    rows.push({
      id: 'B9',
      workload: `maintenance of ${formatCount(plan.slice)} due tokens among ${formatCount(plan.users)} stored, ${database}`,
      contender: `ours, 1 instance, concurrency ${plan.concurrency}`,
      result: describe(plan.users, round, f) + extra,
      comparison: '—',
      target: TARGET,
      met: met(f.complete && f.cpuMsPerToken <= 0.3 && f.coreShare <= 0.15 && f.maxRssMb <= 300),
    });
  }
  const pairs = shared.map((many, i) => {
    const one = figures(plan.users, singles[i]!);
    const f = figures(plan.users, many);
    const shares = many.instances.map((instance) => (instance.refreshed + instance.validated) / f.tokens);
    return {
      many,
      f,
      shares,
      even: shares.every((share) => Math.abs(share - 1 / plan.instances) <= 0.05),
      cost: f.cpuMsPerToken / one.cpuMsPerToken,
      complete: f.complete && one.complete,
      statements: [singles[i]!, many].map((round) =>
        round.transactions === null ? null : round.transactions / figures(plan.users, round).tokens,
      ),
    };
  });
  const cost = median(pairs.map((pair) => pair.cost));
  const middle = [...pairs].sort((a, b) => a.cost - b.cost)[Math.floor((pairs.length - 1) / 2)]!;
  const perToken = (value: number | null) => (value === null ? '?' : value.toFixed(3));
  rows.push({
    id: 'B9m',
    workload: `maintenance of ${formatCount(plan.slice)} due tokens among ${formatCount(plan.users)} stored, Postgres`,
    contender: `ours, ${plan.instances} instances, concurrency ${plan.concurrency} each`,
    result:
      `shares ${middle.shares.map((share) => `${(share * 100).toFixed(1)} %`).join(' / ')} (every round within ± 5 %: ${pairs.every((pair) => pair.even) ? 'yes' : 'no'}); ` +
      `skipped ${sum(middle.many.instances.map((i) => i.skipped))}; database transactions per token ${perToken(middle.statements[1]!)} (one instance: ${perToken(middle.statements[0]!)}); ` +
      describe(plan.users, middle.many, middle.f),
    comparison: `${formatRatio(cost)} the single instance's CPU per token (median of ${pairs.length} alternating pairs: ${pairs.map((pair) => formatRatio(pair.cost)).join(' / ')})`,
    target: `each share ${(100 / plan.instances).toFixed(0)} % ± 5 %; total CPU per token ≤ 1.2× one instance's; one refresh per due user`,
    met: met(pairs.every((pair) => pair.even && pair.complete) && cost <= 1.2),
  });
  const notes = [
    `B9: ${formatCount(plan.users)} rows seeded as an hour of traffic leaves them (4-hour tokens, expiries and validation ages spread evenly), then ${formatCount(plan.slice)} made due as if the clock had moved on: ${Math.round(plan.slice * 0.2)} for refresh, the rest for validation (69 : 278 per second at a million users). FakeTwitch in its own process (no added latency) knows only those. CPU is the instance process's \`process.cpuUsage()\` (all threads, database driver included) over the ticks until nothing is due, after an unmeasured warm-up slice; the core share extrapolates it to ${formatCount(Math.round(plan.users * (VALIDATIONS_PER_SECOND_PER_USER + REFRESHES_PER_SECOND_PER_USER)))} maintained tokens per second. Nobody reads tokens, so the hot cache stays empty. Seeding: SQLite ${sqlite.seedSeconds.toFixed(0)} s (multi-row INSERTs), Postgres ${postgres.seedSeconds.toFixed(0)} s (generate_series).`,
    `B9m: on B9's Postgres table, ${plan.pairs} pair(s) of rounds alternate one instance and ${plan.instances} processes started together (each round makes ${formatCount(plan.slice)} more rows due, removing as many filler rows); every instance claims batches of due tokens (leased in the claiming statement, \`FOR UPDATE SKIP LOCKED\`); \`skipped\` counts due rows an instance saw leased by another and left alone without a statement. Database transactions per token come from \`pg_stat_database\` (every lone statement counts as one). The ${plan.instances} instances, Postgres and FakeTwitch share this machine's cores, so the ${plan.instances}-instance rounds run with every core busy and their CPU time per token includes what that contention costs each process; the pairs' spread shows how much of the ratio is noise.`,
  ];
  return { rows, notes, raw: { sqlite, postgres } };
}
