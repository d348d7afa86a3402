/**
 * `npm run bench:readme`: copies the last full run (bench/results/latest.json)
 * into the README's Performance section, between its `bench:begin` and
 * `bench:end` markers, so the README's numbers are the run's, never typed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MachineInfo, ResultRow } from './lib/report.js';

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const BEGIN = '<!-- bench:begin (written by npm run bench:readme from bench/results/latest.json) -->';
const END = '<!-- bench:end -->';

interface LatestRun {
  command: string;
  underlyingCommand: string;
  machine: MachineInfo;
  mode: string;
  startedAt: string;
  durationSeconds: number;
  rows: ResultRow[];
}

function cell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function render(run: LatestRun): string {
  const { machine } = run;
  return [
    BEGIN,
    '',
    `- Command: \`${run.command}\` (runs \`${run.underlyingCommand}\`)`,
    `- Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}`,
    `- Load average at start: ${machine.loadAverageAtStart.join(' / ')} (1 / 5 / 15 min)`,
    `- Started ${run.startedAt}, took ${Math.round(run.durationSeconds)} s`,
    '',
    '| id | contender | result (median) | comparison | target met? |',
    '|---|---|---|---|---|',
    ...run.rows.map((row) => `| ${[row.id, row.contender, row.result, row.comparison, row.met].map(cell).join(' | ')} |`),
    '',
    END,
  ].join('\n');
}

function main(): void {
  const run = JSON.parse(readFileSync(`${REPOSITORY}bench/results/latest.json`, 'utf8')) as LatestRun;
  if (run.mode !== 'full') throw new Error(`bench/results/latest.json holds a ${run.mode} run; the README shows full runs only.`);
  const readmePath = `${REPOSITORY}README.md`;
  const readme = readFileSync(readmePath, 'utf8');
  const begin = readme.indexOf('<!-- bench:begin');
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error('README.md lacks the bench:begin / bench:end markers.');
  writeFileSync(readmePath, readme.slice(0, begin) + render(run) + readme.slice(end + END.length));
  process.stderr.write(`README.md: Performance table from the run started ${run.startedAt}\n`);
}

main();
