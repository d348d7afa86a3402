/**
 * B3: EventSub notifications under load. Each receiver runs alone in its own
 * process; autocannon (programmatic) runs here in the parent and signs every
 * request itself, so each carries a distinct message id and a valid
 * signature. Before any measurement each receiver must answer 2xx to a valid
 * notification (and, where it verifies, 4xx to a forged one).
 */
import autocannon from 'autocannon';
type AutocannonResult = Awaited<ReturnType<typeof autocannon>>;
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { childExecArgv } from '../lib/child.js';
import { EVENTSUB_SECRET, followNotificationBody, notificationHeaders, signEventSub } from '../lib/eventsub-notification.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { formatCount, formatRate, formatRatio, median, pairedRatios, rotate, sum } from '../lib/stats.js';
import type { EventSubContender, EventSubServerCpu, EventSubServerReady } from '../servers/eventsub.process.js';

type Plan = { connections: number; durationSeconds: number; warmupSeconds: number; rounds: number };

interface RunningServer {
  contender: EventSubContender;
  child: ChildProcess;
  ready: EventSubServerReady;
}

interface Sample {
  round: number;
  requestsPerSecond: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Notifications the receiver handed to its listener during the sample (0 for the bare handlers). */
  dispatched: number;
  /** The receiver process's CPU time (user + system) per 2xx answer, in microseconds. */
  serverCpuMicrosPerRequest: number;
  statusCodes: Record<string, number>;
}

const CONTENDERS: { contender: EventSubContender; label: string }[] = [
  { contender: 'ours-express', label: "ours on Express, mount 'controller' (default): TwitchAuthModule.forRoot({ eventSub })" },
  {
    contender: 'ours-direct-express',
    label: "ours on Express, mount 'direct' (answered at the HTTP server, ahead of Express): forRoot({ eventSub: { mount: 'direct' } })",
  },
  { contender: 'bare-express', label: 'bare Nest POST handler reading the raw body, Express' },
  { contender: 'twurple-express', label: 'twurple EventSubMiddleware on Express' },
  { contender: 'ours-fastify', label: "ours on Fastify, mount 'controller' (default)" },
  { contender: 'ours-direct-fastify', label: "ours on Fastify, mount 'direct' (answered at the HTTP server, ahead of Fastify)" },
  { contender: 'bare-fastify', label: 'bare Nest POST handler reading the raw body, Fastify' },
];

/** Ours' contenders and the adapter each is compared on. */
const OURS: Partial<Record<EventSubContender, 'express' | 'fastify'>> = {
  'ours-express': 'express',
  'ours-direct-express': 'express',
  'ours-fastify': 'fastify',
  'ours-direct-fastify': 'fastify',
};

let messageCounter = 0;

export async function runB3(plan: Plan): Promise<SuiteOutcome> {
  checkSignerAgainstFixture();
  const notes: string[] = [];
  const unavailable = new Map<EventSubContender, string>();
  const probes: Record<string, unknown> = {};
  const servers: RunningServer[] = [];
  try {
    // BENCH_B3_CONTENDERS=ours-fastify,bare-fastify narrows a run to some receivers (for profiling one).
    const only = process.env.BENCH_B3_CONTENDERS?.split(',');
    for (const { contender } of CONTENDERS.filter((c) => !only || only.includes(c.contender))) {
      let server: RunningServer | null = null;
      try {
        server = await startServer(contender);
        const probe = await probeServer(server);
        probes[contender] = probe;
        if (probe.problem) throw new Error(probe.problem);
        servers.push(server);
      } catch (error) {
        unavailable.set(contender, error instanceof Error ? error.message : String(error));
        if (server) stopServer(server);
      }
    }

    const samples: Record<string, Sample[]> = Object.fromEntries(servers.map((s) => [s.contender, []]));
    for (const server of servers) await load(server, plan.connections, plan.warmupSeconds);
    for (let round = 1; round <= plan.rounds; round++) {
      for (const server of rotate(servers, round)) {
        const before = await serverCpu(server);
        const result = await load(server, plan.connections, plan.durationSeconds);
        await new Promise((resolve) => setTimeout(resolve, 100)); // dispatch runs just after each answer
        const after = await serverCpu(server);
        const sample = toSample(round, result, after.cpuMicros - before.cpuMicros, after.dispatched - before.dispatched);
        samples[server.contender].push(sample);
        process.stderr.write(
          `    round ${round}/${plan.rounds} ${server.contender}: ${formatRate(sample.requestsPerSecond)} req/s, ` +
            `p99 ${sample.latencyP99Ms} ms, server CPU ${sample.serverCpuMicrosPerRequest.toFixed(1)} µs/req, ` +
            `non-2xx ${sample.non2xx}, errors ${sample.errors}\n`,
        );
      }
    }
    const rows = buildRows(plan, samples, unavailable);
    notes.push(
      `B3: ${plan.connections} connections, ${plan.durationSeconds} s per sample after a ${plan.warmupSeconds} s warm-up, ${plan.rounds} round(s), receivers alternating (order rotated each round); ratios are medians of per-round ratios, with their range; every request has its own message id and a fresh HMAC-SHA256 signature computed in the load generator (same cost for every receiver). Each receiver runs alone in its own process; autocannon runs in the parent. Server CPU/req = the receiver process's user + system CPU time during the sample divided by its 2xx answers: unlike req/s it does not depend on how fast the load generator is. twurple: \`EventSubMiddleware\` with \`markAsReady()\` never called, so no Helix request is made; it answers 202.`,
    );
    for (const [contender, reason] of unavailable) notes.push(`B3: ${contender} not measured: ${reason}`);
    const dispatchCounts = Object.entries(samples)
      .filter(([contender]) => !contender.startsWith('bare'))
      .map(
        ([contender, list]) =>
          `${contender} ${formatCount(sum(list.map((s) => s.dispatched)))} of ${formatCount(sum(list.map((s) => s.ok)))}`,
      );
    notes.push(
      `B3: ours and twurple each have one listener for the notifications sent (channel.follow); notifications dispatched to it / answered 2xx over all rounds (dispatch also covers the requests in flight when a sample ends): ${dispatchCounts.join('; ')}.`,
    );
    return { rows, notes, raw: { plan, probes, samples, unavailable: Object.fromEntries(unavailable) } };
  } finally {
    for (const server of servers) stopServer(server);
  }
}

function buildRows(plan: Plan, samples: Record<string, Sample[]>, unavailable: Map<EventSubContender, string>): ResultRow[] {
  const rate = (c: EventSubContender) => (samples[c] ? median(samples[c].map((s) => s.requestsPerSecond)) : Number.NaN);
  const cpu = (c: EventSubContender) => (samples[c] ? median(samples[c].map((s) => s.serverCpuMicrosPerRequest)) : Number.NaN);
  const failures = (c: EventSubContender) => (samples[c] ? sum(samples[c].map((s) => s.non2xx + s.errors + s.timeouts)) : 0);
  const workload = `EventSub notifications, ${plan.connections} connections, distinct ids, valid signatures, ${plan.durationSeconds} s`;
  // A run narrowed by BENCH_B3_CONTENDERS reports only the receivers it started.
  const reported = CONTENDERS.filter(({ contender }) => samples[contender] !== undefined || unavailable.has(contender));
  return reported.map(({ contender, label }) => {
    const value = rate(contender);
    const row: ResultRow = {
      id: 'B3',
      workload,
      contender: label,
      result: unavailable.has(contender)
        ? `not available: ${unavailable.get(contender)}`
        : `${formatRate(value)} req/s (rounds: ${samples[contender].map((s) => formatRate(s.requestsPerSecond)).join(' / ')}); ` +
          `server CPU ${cpu(contender).toFixed(1)} µs/req; ` +
          `non-2xx/errors ${failures(contender)}; p99 ${median(samples[contender].map((s) => s.latencyP99Ms))} ms`,
      comparison: '—',
      target: '—',
      met: unavailable.has(contender) ? 'n/a' : '—',
    };
    const adapter = OURS[contender];
    if (adapter && !unavailable.has(contender)) {
      const bareName: EventSubContender = `bare-${adapter}`;
      const vsBare = paired(samples, contender, bareName, (s) => s.requestsPerSecond);
      const parts = [`${describePaired(vsBare)} bare ${adapter === 'express' ? 'Express' : 'Fastify'}`];
      // Ahead of twurple is a target on Express only; NaN when twurple was not measured.
      const vsTwurple = adapter === 'express' ? paired(samples, contender, 'twurple-express', (s) => s.requestsPerSecond) : null;
      if (vsTwurple) parts.push(`${describePaired(vsTwurple)} twurple`);
      parts.push(`server CPU/req ${describePaired(paired(samples, contender, bareName, (s) => s.serverCpuMicrosPerRequest))} bare`);
      if (adapter === 'express') {
        parts.push(`${describePaired(paired(samples, contender, 'twurple-express', (s) => s.serverCpuMicrosPerRequest))} twurple`);
      }
      row.comparison = parts.join(', ');
      row.target = adapter === 'express' ? '≥ 0.75 × bare Express and ahead of twurple; all 2xx' : '≥ 0.75 × bare Fastify; all 2xx';
      const measured = Number.isFinite(vsBare.median) && (!vsTwurple || Number.isFinite(vsTwurple.median));
      row.met = measured ? met(vsBare.median >= 0.75 && (!vsTwurple || vsTwurple.median > 1) && failures(contender) === 0) : 'n/a';
    } else if (adapter) {
      row.target = '≥ 0.75 × bare on the same adapter (and ahead of twurple on Express)';
    }
    return row;
  });
}

/** Median, lowest and highest of the per-round ratios `a / b`. */
interface PairedRatio {
  median: number;
  low: number;
  high: number;
}

/**
 * Compares two receivers round by round (their samples in one round were
 * taken a minute apart at most) and takes the median of those ratios: on a
 * shared machine whose speed drifts, that is steadier than a ratio of medians.
 */
function paired(samples: Record<string, Sample[]>, a: EventSubContender, b: EventSubContender, value: (s: Sample) => number): PairedRatio {
  // Every measured receiver has one sample per round, in round order.
  const finite = pairedRatios((samples[a] ?? []).map(value), (samples[b] ?? []).map(value)).filter(Number.isFinite);
  return { median: median(finite), low: Math.min(...finite), high: Math.max(...finite) };
}

function describePaired(r: PairedRatio): string {
  if (!Number.isFinite(r.median)) return 'n/a';
  return r.low === r.high ? formatRatio(r.median) : `${formatRatio(r.median)} (rounds ${r.low.toFixed(2)}–${r.high.toFixed(2)})`;
}

/** Fails loudly if our signer disagrees with the repository's Twitch test vector. */
function checkSignerAgainstFixture(): void {
  const vectors = JSON.parse(readFileSync(new URL('../../../../test/fixtures/eventsub-signature.json', import.meta.url), 'utf8')) as {
    secret: string;
    messageId: string;
    timestamp: string;
    body: string;
    signature: string;
  }[];
  for (const v of vectors) {
    if (signEventSub(v.secret, v.messageId, v.timestamp, v.body) !== v.signature) {
      throw new Error('B3: the bench signer does not reproduce test/fixtures/eventsub-signature.json');
    }
  }
}

function startServer(contender: EventSubContender): Promise<RunningServer> {
  const child = fork(new URL('../servers/eventsub.process.js', import.meta.url), [contender], {
    execArgv: childExecArgv(`B3-${contender}`),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server process exited during startup (code ${code})`)));
    child.once('message', (ready: EventSubServerReady) => {
      child.removeAllListeners('exit');
      resolve({ contender, child, ready });
    });
  });
}

function stopServer(server: RunningServer): void {
  if (server.child.connected) server.child.send('close');
  setTimeout(() => server.child.kill('SIGKILL'), 5_000).unref();
}

/** One valid and one forged notification; the receiver must take the first and (if it verifies) refuse the second. */
async function probeServer(server: RunningServer): Promise<{ validStatus: number; forgedStatus: number; problem: string | null }> {
  const target = `${server.ready.url}${server.ready.path}`;
  const body = followNotificationBody('bench-subscription', target);
  const timestamp = new Date().toISOString();
  const validId = `probe-${server.contender}-${++messageCounter}`;
  const valid = await fetch(target, { method: 'POST', headers: notificationHeaders(validId, timestamp, body), body });
  await valid.arrayBuffer();
  const forgedId = `probe-${server.contender}-${++messageCounter}`;
  const forgedHeaders = notificationHeaders(forgedId, timestamp, body);
  forgedHeaders['twitch-eventsub-message-signature'] = signEventSub(`${EVENTSUB_SECRET}-wrong`, forgedId, timestamp, body);
  const forged = await fetch(target, { method: 'POST', headers: forgedHeaders, body });
  await forged.arrayBuffer();
  let problem: string | null = null;
  if (server.contender.startsWith('ours') && valid.status === 404) {
    problem = 'EventSub receiver not built (POST /eventsub/callback answers 404)';
  } else if (valid.status < 200 || valid.status > 299) {
    problem = `a valid signed notification was answered ${valid.status}`;
  } else if (!server.contender.startsWith('bare') && forged.status >= 200 && forged.status <= 299) {
    problem = `a notification with a wrong signature was answered ${forged.status}`;
  }
  return { validStatus: valid.status, forgedStatus: forged.status, problem };
}

function load(server: RunningServer, connections: number, durationSeconds: number): Promise<AutocannonResult> {
  const target = `${server.ready.url}${server.ready.path}`;
  const body = followNotificationBody('bench-subscription', target);
  const timestamp = new Date().toISOString();
  const prefix = `${server.contender}-${Date.now()}`;
  return autocannon({
    url: server.ready.url,
    connections,
    duration: durationSeconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: server.ready.path,
        body,
        setupRequest: (request) => {
          request.headers = notificationHeaders(`${prefix}-${++messageCounter}`, timestamp, body);
          return request;
        },
      },
    ],
  });
}

/** The receiver process's CPU time so far (microseconds) and how many notifications it dispatched. */
function serverCpu(server: RunningServer): Promise<EventSubServerCpu> {
  return new Promise((resolve) => {
    const onMessage = (message: EventSubServerCpu) => {
      if (typeof message?.cpuMicros !== 'number') return;
      server.child.off('message', onMessage);
      resolve(message);
    };
    server.child.on('message', onMessage);
    server.child.send('cpu');
  });
}

function toSample(round: number, result: AutocannonResult, serverCpuMicros: number, dispatched: number): Sample {
  return {
    dispatched,
    serverCpuMicrosPerRequest: result['2xx'] > 0 ? serverCpuMicros / result['2xx'] : Number.NaN,
    round,
    requestsPerSecond: result['2xx'] / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
  };
}
