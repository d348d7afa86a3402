import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatBytes, formatCount, formatRatio, ratio } from '../lib/stats.js';
import type { HeapContender, HeapParams, HeapResult } from '../workloads/heap.js';

const SCRIPT = new URL('../workloads/heap.js', import.meta.url);

const LABELS: Record<HeapContender, string> = {
  ours: 'ours: TokenService + in-memory storage (stored row and cache entry)',
  twurple: 'twurple: RefreshingAuthProvider',
  baseline: 'reference: Map<userId, accessToken>',
};

/** B5: heap per cached token, each contender alone in a process with `--expose-gc`. */
export async function runB5(plan: { users: number }): Promise<SuiteOutcome> {
  const results: Partial<Record<HeapContender, HeapResult>> = {};
  for (const contender of ['ours', 'twurple', 'baseline'] as const) {
    const params: HeapParams = { contender, users: plan.users };
    results[contender] = await runChild<HeapResult>(SCRIPT, params, { label: `B5-${contender}`, execArgv: ['--expose-gc'] });
  }
  const ours = results.ours!.bytesPerToken;
  const workload = `heap per cached token at ${formatCount(plan.users)} users`;
  const rows: ResultRow[] = (['ours', 'twurple', 'baseline'] as const).map((contender) => {
    const value = results[contender]!.bytesPerToken;
    const isOurs = contender === 'ours';
    return {
      id: 'B5',
      workload,
      contender: LABELS[contender],
      result: `${formatBytes(value)} per token`,
      comparison: isOurs ? `${formatRatio(ratio(ours, results.twurple!.bytesPerToken))} twurple` : '—',
      target: isOurs ? '≤ 1 KiB per token' : '—',
      met: isOurs ? met(value <= 1024) : '—',
    };
  });
  return {
    rows,
    notes: [
      'B5: heapUsed after forced GC (node --expose-gc), before and after adding the users, one process per contender; includes the token strings each keeps (30-character access tokens, 50-character refresh tokens, 3 scopes).',
    ],
    raw: results,
  };
}
