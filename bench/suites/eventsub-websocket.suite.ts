import { runChild } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatRate, formatRatio, median, pairedRatio } from '../lib/stats.js';
import type { EventSubWebSocketParams, EventSubWebSocketResult } from '../workloads/eventsub-websocket.js';

const SCRIPT = new URL('../workloads/eventsub-websocket.js', import.meta.url);

/** B6: EventSub notifications per second over one WebSocket; ours vs twurple's EventSubWsListener vs a bare ws client. */
export async function runB6(plan: EventSubWebSocketParams): Promise<SuiteOutcome> {
  const result = await runChild<EventSubWebSocketResult>(SCRIPT, plan, { label: 'B6' });
  const ours = median(result.samples.ours);
  const twurple = median(result.samples.twurple);
  const bare = median(result.samples.bare);
  const vsBare = pairedRatio(result.samples.ours, result.samples.bare);
  const vsTwurple = pairedRatio(result.samples.ours, result.samples.twurple);
  const wall = (name: string): string => `; ${formatRate(median(result.wallSamples[name]))}/s wall`;
  const exact = Object.values(result.extra).every((count) => count === 0);
  const workload = `${plan.messages.toLocaleString('en-US')} channel.follow notifications over one EventSub WebSocket, FakeTwitch in its own process`;
  const extra = (name: string): string => (result.extra[name] ? `; ${result.extra[name]} counted twice or missing` : '');
  const rows: ResultRow[] = [
    {
      id: 'B6',
      workload,
      contender: 'ours: EventSubService websocket subscription → @OnEvent listener reading 5 fields (typed payload, de-duplicated)',
      result: `${formatRate(ours)} notifications per CPU s${wall('ours')}${extra('ours')}`,
      comparison: `${formatRatio(vsBare)} bare ws, ${formatRatio(vsTwurple)} twurple`,
      target: '≥ 0.8 × bare ws and ahead of twurple',
      met: met(exact && vsBare >= 0.8 && vsTwurple > 1),
    },
    {
      id: 'B6',
      workload,
      contender: 'twurple: EventSubWsListener.onChannelFollow handler reading the same 5 fields (typed payload, de-duplicated)',
      result: `${formatRate(twurple)} notifications per CPU s${wall('twurple')}${extra('twurple')}`,
      comparison: `${formatRatio(pairedRatio(result.samples.twurple, result.samples.bare))} bare ws`,
      target: '—',
      met: '—',
    },
    {
      id: 'B6',
      workload,
      contender: 'bare ws client: JSON.parse and count',
      result: `${formatRate(bare)} notifications per CPU s${wall('bare')}${extra('bare')}`,
      comparison: '—',
      target: '—',
      met: '—',
    },
  ];
  return {
    rows,
    notes: [
      `B6: ${plan.rounds} measured rounds (plus one warm-up round, dropped) of ${plan.messages.toLocaleString('en-US')} notifications per contender; the three are connected at once, each subscribed for its own broadcaster so a burst reaches one of them; contenders alternate, rotated each round; one client process for all contenders, FakeTwitch in another. Both typed listeners read the same five fields of each follow (user id, login, display name, broadcaster id, follow time as a Date): twurple's event reads fields lazily, on access, so a listener that ignored its event would give twurple less work than ours, whose payload is converted before listeners run. A round runs from asking FakeTwitch for the burst until the listener counted the last notification. The result is notifications per second of the client process's CPU time (process.cpuUsage over the round): FakeTwitch sends about as fast as any contender reads, so wall-clock rates (shown too) mostly measure FakeTwitch and come out nearly equal. Ratios are medians of per-round ratios of the CPU-time rates.`,
    ],
    raw: { params: plan, ...result, medians: { ours, twurple, bare }, ratios: { vsBare, vsTwurple } },
  };
}
