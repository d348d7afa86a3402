import { cpus, loadavg, platform, release, arch, totalmem } from 'node:os';

/** One line of the results table. */
export interface ResultRow {
  id: string;
  workload: string;
  contender: string;
  /** The measured median (or counts), already formatted. */
  result: string;
  /** Ratios against the other contenders. */
  comparison: string;
  /** The target, on the row it applies to. */
  target: string;
  /** `yes`, `NO`, `—` (no target on this row) or `n/a` (not measured). */
  met: 'yes' | 'NO' | '—' | 'n/a';
}

/** What one suite hands back: table rows, notes under the table, and its raw data for the JSON file. */
export interface SuiteOutcome {
  rows: ResultRow[];
  notes: string[];
  raw: unknown;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  os: string;
  memoryGiB: number;
  loadAverageAtStart: number[];
}

export function describeMachine(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

export function met(condition: boolean): 'yes' | 'NO' {
  return condition ? 'yes' : 'NO';
}

/** The Markdown report: header facts, the table, then the notes. */
export function renderMarkdown(input: {
  command: string;
  underlyingCommand: string;
  machine: MachineInfo;
  mode: string;
  startedAt: Date;
  durationSeconds: number;
  rows: ResultRow[];
  notes: string[];
}): string {
  const { machine } = input;
  const lines = [
    '# nestjs-twitch-auth benchmarks',
    '',
    `- Command: \`${input.command}\` (runs \`${input.underlyingCommand}\`)`,
    `- Mode: ${input.mode}`,
    `- Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}`,
    `- Load average at start: ${machine.loadAverageAtStart.join(' / ')} (1 / 5 / 15 min)`,
    `- Started ${input.startedAt.toISOString()}, took ${Math.round(input.durationSeconds)} s`,
    '',
    '| id | workload | contender | result (median) | comparison | target | target met? |',
    '|---|---|---|---|---|---|---|',
    ...input.rows.map(
      (row) => `| ${[row.id, row.workload, row.contender, row.result, row.comparison, row.target, row.met].map(escapeCell).join(' | ')} |`,
    ),
    '',
  ];
  if (input.notes.length > 0) {
    lines.push('Notes:', '', ...input.notes.map((note) => `- ${note}`), '');
  }
  return lines.join('\n');
}

function escapeCell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
