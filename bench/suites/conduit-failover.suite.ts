import { fork, type ChildProcess } from 'node:child_process';
import type { EventSubConduitStatus } from '../../src/twitch-auth/index.js';
import { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { startPostgres } from '../../test/support/postgres.js';
import { childExecArgv } from '../lib/child.js';
import { met, type ResultRow, type SuiteOutcome } from '../lib/report.js';
import { median } from '../lib/stats.js';
import type { ConduitInstanceConfig } from '../servers/conduit.process.js';

/** Sizes of B7. */
export interface ConduitFailoverPlan {
  runs: number;
  instances: number;
  shards: number;
  leaseSeconds: number;
  renewSeconds: number;
}

/** Any single wait of a run gives up after this (a broken build must not hang the bench). */
const WAIT_MS = 60_000;

interface Instance {
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * B7: conduit failover. Instances share a conduit through Postgres; once the
 * shards are spread and associated, one instance holding shards is
 * SIGKILLed, and the time until FakeTwitch shows every shard enabled again
 * (taken over and associated by the others) is measured. Each run uses a
 * conduit of its own (a new `name`), on one Postgres cluster and one FakeTwitch.
 */
export async function runB7(plan: ConduitFailoverPlan): Promise<SuiteOutcome> {
  const postgres = await startPostgres();
  const fake = await FakeTwitch.start({ eventSubWelcomeTimeoutMs: 60_000 });
  const seconds: number[] = [];
  try {
    for (let run = 0; run < plan.runs; run++) {
      // A fresh FakeTwitch state per run: no conduit left from the previous run to adopt.
      fake.reset();
      seconds.push((await failoverOnce(plan, run, postgres.url, fake)) / 1000);
      process.stderr.write(`    run ${run + 1}: shards back after ${seconds.at(-1)!.toFixed(2)} s\n`);
    }
  } finally {
    await fake.close();
    await postgres.stop();
  }
  const target = plan.leaseSeconds + 10;
  const worst = Math.max(...seconds);
  const rows: ResultRow[] = [
    {
      id: 'B7',
      workload: `conduit of ${plan.shards} WebSocket shards over ${plan.instances} processes on Postgres (lease ${plan.leaseSeconds} s, renewed every ${plan.renewSeconds} s); one holder SIGKILLed; time until FakeTwitch shows every shard enabled again, ${plan.runs} runs`,
      contender: 'ours: EventSubConduitShards',
      result: `median ${median(seconds).toFixed(2)} s, worst ${worst.toFixed(2)} s (${seconds.map((s) => s.toFixed(2)).join(', ')})`,
      comparison: `${(worst / target).toFixed(2)} × target`,
      target: `≤ lease + 10 s (${target} s)`,
      met: met(worst <= target),
    },
  ];
  return {
    rows,
    notes: [
      `B7: the victim's shards stay with it until its lease lapses (${plan.leaseSeconds} s after its last renewal), then the others claim them at their next round (every ${plan.renewSeconds} s) and associate new sockets; Twitch (FakeTwitch) delivers to the other enabled shards meanwhile, so the time measured is how long the conduit runs with fewer shards, not an outage.`,
    ],
    raw: { plan, seconds },
  };
}

async function failoverOnce(plan: ConduitFailoverPlan, run: number, databaseUrl: string, fake: FakeTwitch): Promise<number> {
  const config: ConduitInstanceConfig = {
    databaseUrl,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret!,
    idBaseUrl: fake.idBaseUrl,
    helixBaseUrl: fake.helixBaseUrl,
    webSocketUrl: fake.eventSubWebSocketUrl,
    conduit: { name: `b7-run-${run}`, shardCount: plan.shards, leaseSeconds: plan.leaseSeconds, renewSeconds: plan.renewSeconds },
  };
  const instances = await Promise.all(Array.from({ length: plan.instances }, (_, i) => startInstance(config, `B7-${run}-${i}`)));
  try {
    const shardsEnabled = () => {
      const conduits = fake.conduits();
      return conduits.length === 1 && conduits[0]!.shards.every((shard) => shard.status === 'enabled');
    };
    let statuses: EventSubConduitStatus[] = [];
    await waitFor('the shards spread and associated', async () => {
      if (!shardsEnabled()) return false;
      statuses = await Promise.all(instances.map((instance) => statusOf(instance)));
      const held = statuses.reduce((sum, status) => sum + status.shardsHeld.length, 0);
      return held === plan.shards && statuses.every((status) => status.shardsDisabled.length === 0);
    });
    // The instance holding the most shards: the failover with the most to take over.
    const victim =
      instances[statuses.reduce((most, status, i) => (status.shardsHeld.length > statuses[most]!.shardsHeld.length ? i : most), 0)]!;
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    await waitFor('the victim seen gone', () => !shardsEnabled());
    await waitFor('every shard enabled again', () => shardsEnabled(), 10);
    return performance.now() - killedAt;
  } finally {
    for (const instance of instances) instance.child.send?.({ type: 'close' }, () => undefined);
    await Promise.all(
      instances.map((instance) => Promise.race([instance.exited, sleep(10_000).then(() => instance.child.kill('SIGKILL'))])),
    );
  }
}

function startInstance(config: ConduitInstanceConfig, label: string): Promise<Instance> {
  const child = fork(new URL('../servers/conduit.process.js', import.meta.url), [JSON.stringify(config)], {
    execArgv: childExecArgv(label),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${WAIT_MS} ms`)), WAIT_MS);
    child.on('message', (message: { type?: string }) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({ child, exited });
    });
    void exited.then(() => reject(new Error(`${label} exited during startup`)));
  });
}

function statusOf(instance: Instance): Promise<EventSubConduitStatus> {
  return new Promise((resolve) => {
    const listener = (message: { type?: string; status?: EventSubConduitStatus }) => {
      if (message.type !== 'status') return;
      instance.child.off('message', listener);
      resolve(message.status!);
    };
    instance.child.on('message', listener);
    instance.child.send({ type: 'status' });
  });
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, pollMs = 50): Promise<void> {
  for (const deadline = Date.now() + WAIT_MS; !(await condition()); await sleep(pollMs)) {
    if (Date.now() > deadline) throw new Error(`B7: no ${what} within ${WAIT_MS} ms`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
