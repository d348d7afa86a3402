import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatCount, formatMs, formatRatio, median, ratio, sum } from '../lib/stats.js';
import type { MaintenanceTickParams, MaintenanceTickResult } from '../workloads/maintenance-tick.js';

const SCRIPT = new URL('../workloads/maintenance-tick.js', import.meta.url);

/** B4: tick time with 1,000 due tokens as the table grows; the target is flat scaling. */
export async function runB4(plan: MaintenanceTickParams, quick: boolean): Promise<SuiteOutcome> {
  const result = await runChild<MaintenanceTickResult>(SCRIPT, plan, { label: 'B4', timeoutMs: 30 * 60_000 });
  const tickMedian = (size: number) => median(result.samples.filter((s) => s.size === size).map((s) => s.tickMs));
  const smallest = plan.sizes[0];
  const largest = plan.sizes[plan.sizes.length - 1];
  const scaling = ratio(tickMedian(largest), tickMedian(smallest));
  const standIn = result.tick.startsWith('stand-in');
  const workload = `one maintenance tick, ${formatCount(plan.due)} due tokens, SQLite file${standIn ? ' (STAND-IN tick)' : ''}`;
  const rows: ResultRow[] = plan.sizes.map((size) => {
    const samples = result.samples.filter((s) => s.size === size);
    const complete = samples.every((s) => s.refreshed === plan.due && s.tokenRequests === plan.due && s.failed === 0 && s.reused === 0);
    const isLargest = size === largest;
    return {
      id: 'B4',
      workload,
      contender: `ours, ${formatCount(size)} stored: ${result.tick}`,
      result:
        `tick ${formatMs(tickMedian(size))} (CPU ${formatMs(median(samples.map((s) => s.cpuMs)))}); due-query ${formatMs(result.dueQueryMs[size])}; ` +
        `refreshed ${samples.map((s) => s.refreshed).join('/')}, token requests ${samples.map((s) => s.tokenRequests).join('/')}, ` +
        `failed ${sum(samples.map((s) => s.failed))}, ticks ${samples.map((s) => s.ticks).join('/')}`,
      comparison: size === smallest ? '—' : `${formatRatio(ratio(tickMedian(size), tickMedian(smallest)))} tick(${formatCount(smallest)})`,
      target: isLargest ? `tick(${formatCount(largest)}) / tick(${formatCount(smallest)}) ≤ 1.5; every due token refreshed once` : '—',
      met: isLargest ? met(scaling <= 1.5 && complete) : complete ? '—' : 'NO',
    };
  });
  const notes = [
    `B4: ${plan.rounds} round(s) per size after one unrecorded warm-up tick; each round adds ${formatCount(plan.due)} due tokens, runs the tick until all are refreshed (\`ticks\` counts how many it took), then deletes them. FakeTwitch (own process, no added latency). Filler rows seeded with multi-row INSERTs (seconds: ${Object.entries(
      result.seedSeconds,
    )
      .map(([size, seconds]) => `${formatCount(Number(size))}: ${seconds.toFixed(1)}`)
      .join(', ')}). Due-query plan: ${result.queryPlan.join('; ')}.`,
  ];
  if (quick) notes.push(`B4 (quick): sizes ${plan.sizes.map(formatCount).join(' / ')} instead of 10k / 100k / 1M.`);
  if (standIn)
    notes.push('B4: the module has no maintenance tick yet; the stand-in (due-query + TokenService.refresh, 8 at a time) was timed.');
  return { rows, notes, raw: { params: plan, ...result } };
}
