/**
 * `npm run bench [-- --quick] [-- --only B1,B3] [-- --cpu-prof]`: runs the
 * workloads described in bench/README.md side by side with twurple, prints a
 * Markdown table and writes it to bench/results/latest.md, with the raw
 * samples in bench/results/latest.json. A partial run (`--quick`, `--only`,
 * or B3 narrowed by BENCH_B3_CONTENDERS) writes partial.md / partial.json
 * instead, so a smoke check never replaces the committed full results.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { enableChildProfiles } from './lib/child.js';
import { describeMachine, renderMarkdown, type ResultRow, type SuiteOutcome } from './lib/report.js';
import { planFor, type BenchPlan } from './plan.js';
import { runB3 } from './suites/eventsub.suite.js';
import { runB5 } from './suites/heap.suite.js';
import { runB1, runB1s } from './suites/hot-path.suite.js';
import { runB4 } from './suites/maintenance-tick.suite.js';
import { runB2, runB2x } from './suites/refresh-storm.suite.js';
import { runB7 } from './suites/conduit-failover.suite.js';
import { runB8 } from './suites/helix-calls.suite.js';
import { runB8b } from './suites/helix-pacing.suite.js';
import { runB6 } from './suites/eventsub-websocket.suite.js';
import { runB9 } from './suites/maintenance-scale.suite.js';

/** This file runs as dist/bench/bench/run.js; results go to the source tree's bench/results. */
const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS_DIR = `${REPOSITORY}bench/results/`;

interface Suite {
  id: string;
  run: (plan: BenchPlan) => Promise<SuiteOutcome>;
}

const SUITES: Suite[] = [
  { id: 'B1', run: (plan) => runB1(plan.b1) },
  { id: 'B1s', run: (plan) => runB1s(plan.b1) },
  { id: 'B2', run: (plan) => runB2(plan.b2) },
  { id: 'B2x', run: (plan) => runB2x(plan.b2x) },
  { id: 'B3', run: (plan) => runB3(plan.b3) },
  { id: 'B4', run: (plan) => runB4(plan.b4, plan.quick) },
  { id: 'B5', run: (plan) => runB5(plan.b5) },
  { id: 'B6', run: (plan) => runB6(plan.b6) },
  { id: 'B7', run: (plan) => runB7(plan.b7) },
  { id: 'B8', run: (plan) => runB8(plan.b8) },
  { id: 'B8b', run: (plan) => runB8b(plan.b8b) },
  { id: 'B9', run: (plan) => runB9(plan.b9) },
];

interface Arguments {
  quick: boolean;
  profile: boolean;
  only: Set<string> | null;
}

function parseArguments(args: string[]): Arguments {
  const known = new Set(SUITES.map((suite) => suite.id));
  let only: Set<string> | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--quick' || arg === '--cpu-prof') continue;
    if (arg === '--only' || arg.startsWith('--only=')) {
      const list = arg === '--only' ? args[++i] : arg.slice('--only='.length);
      only = new Set((list ?? '').split(',').filter(Boolean));
      for (const id of only) if (!known.has(id)) throw new Error(`Unknown workload ${id}; known: ${[...known].join(', ')}`);
      continue;
    }
    throw new Error(`Unknown option ${arg}; use --quick, --only B1,B3 or --cpu-prof`);
  }
  return { quick: args.includes('--quick'), profile: args.includes('--cpu-prof'), only };
}

/** Error text without this machine's directories, so results never carry a local path. */
function withoutLocalPaths(text: string): string {
  return text.split(REPOSITORY).join('./').split(tmpdir()).join('<tmp>');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { quick, profile, only } = parseArguments(args);
  const plan = planFor(quick);
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (profile) enableChildProfiles(RESULTS_DIR);

  const machine = describeMachine();
  const startedAt = new Date();
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const suite of SUITES) {
    if (only && !only.has(suite.id)) continue;
    process.stderr.write(`${suite.id}...\n`);
    const suiteStarted = Date.now();
    try {
      const outcome = await suite.run(plan);
      rows.push(...outcome.rows);
      notes.push(...outcome.notes);
      raw[suite.id] = outcome.raw;
    } catch (error) {
      const message = withoutLocalPaths(error instanceof Error ? error.message : String(error));
      rows.push({ id: suite.id, workload: '(failed to run)', contender: '—', result: 'n/a', comparison: '—', target: '—', met: 'n/a' });
      notes.push(`${suite.id} failed to run: ${message.split('\n')[0]}`);
      raw[suite.id] = { error: message };
    }
    process.stderr.write(`${suite.id} done in ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s\n`);
  }

  const durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
  const suffix = args.length > 0 ? ` ${args.join(' ')}` : '';
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${args.length > 0 ? ` --${suffix}` : ''}`
      : `node dist/bench/bench/run.js${suffix}`;
  const underlyingCommand = `tsc -p bench/tsconfig.json && node dist/bench/bench/run.js${suffix}`;
  const mode = quick ? 'quick (smoke check: fewer rounds, shorter B3, smaller B4; not for comparison)' : 'full';
  const markdown = renderMarkdown({ command, underlyingCommand, machine, mode, startedAt, durationSeconds, rows, notes });
  process.stdout.write(`\n${markdown}`);
  const name = quick || only || process.env.BENCH_B3_CONTENDERS ? 'partial' : 'latest';
  writeFileSync(`${RESULTS_DIR}${name}.md`, markdown);
  const json = { command, underlyingCommand, machine, mode, startedAt, durationSeconds, plan, rows, notes, raw };
  writeFileSync(`${RESULTS_DIR}${name}.json`, `${JSON.stringify(json, null, 2)}\n`);
  process.stderr.write(`wrote bench/results/${name}.md and bench/results/${name}.json\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
