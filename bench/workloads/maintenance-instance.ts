/**
 * One instance of B9/B9m: a Nest app with TypeORM storage and maintenance
 * off (ticks are driven here), pointed at the shared database and
 * FakeTwitch. Says `ready` once booted; when told `go`, runs ticks until
 * two in a row find nothing left (unmeasured warm-up rounds first), and answers with its counts, its CPU time during
 * the ticks (`process.cpuUsage()`, all threads) and its RSS.
 */
import { TwitchAuthMaintenance } from '../../src/twitch-auth/index.js';
import { TokenCache } from '../../src/twitch-auth/tokens/token-cache.js';
import { redirectTwitchToFake } from '../lib/loopback-fetch.js';
import { createOurApp } from '../lib/nest-app.js';

/** What the parent passes on the command line. */
export interface InstanceParams {
  databaseUrl: string;
  fakeUrl: string;
  clientId: string;
  clientSecret: string;
  concurrency: number;
}

/** What one instance did. */
export interface InstanceResult {
  refreshed: number;
  validated: number;
  failed: number;
  skipped: number;
  ticks: number;
  firstFailure: string | null;
  cpuMs: number;
  /** Of `cpuMs`, time in the kernel (sockets, fsync). */
  systemMs: number;
  wallMs: number;
  rssMb: number;
  /** Users in the hot read cache after maintenance (nobody read a token). */
  cachedUsers: number;
}

/** Messages between the parent and an instance. */
export type InstanceMessage =
  | { type: 'ready' }
  | { type: 'warmed' }
  | { type: 'go'; measure: boolean }
  | { type: 'result'; value: InstanceResult }
  | { type: 'error'; message: string };

/** Ticks after the last one that did work: with several instances, one may come up empty while the others finish. */
const IDLE_TICKS = 2;

async function main(): Promise<void> {
  const params = JSON.parse(process.argv[2]!) as InstanceParams;
  redirectTwitchToFake(params.fakeUrl);
  const ours = await createOurApp({
    idBaseUrl: params.fakeUrl,
    clientId: params.clientId,
    clientSecret: params.clientSecret,
    databaseUrl: params.databaseUrl,
    options: { maintenance: { enabled: false, concurrency: params.concurrency } },
  });
  const maintenance = ours.app.get(TwitchAuthMaintenance);
  process.send!({ type: 'ready' } satisfies InstanceMessage);
  const go = () =>
    new Promise<{ measure: boolean }>((resolve) => process.once('message', (message: { measure: boolean }) => resolve(message)));
  // Unmeasured first: JIT warm-up, connections and caches, as a long-running instance has them.
  while (!(await go()).measure) {
    await tickUntilIdle(maintenance);
    process.send!({ type: 'warmed' } satisfies InstanceMessage);
  }
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  const totals = await tickUntilIdle(maintenance);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = Date.now() - started;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const cachedUsers = ours.app.get(TokenCache, { strict: false }).size;
  await ours.close();
  const value: InstanceResult = {
    ...totals,
    cpuMs: (cpu.user + cpu.system) / 1000,
    systemMs: cpu.system / 1000,
    wallMs,
    rssMb,
    cachedUsers,
  };
  process.send!({ type: 'result', value } satisfies InstanceMessage, () => process.exit(0));
}

/** Runs ticks until two in a row found nothing to do; the summed counts. */
async function tickUntilIdle(maintenance: TwitchAuthMaintenance) {
  const totals = { refreshed: 0, validated: 0, failed: 0, skipped: 0, ticks: 0, firstFailure: null as string | null };
  for (let idle = 0; idle < IDLE_TICKS;) {
    const summary = await maintenance.runNow();
    totals.ticks++;
    totals.refreshed += summary.refreshed;
    totals.validated += summary.validated;
    totals.failed += summary.failed;
    totals.skipped += summary.skipped;
    totals.firstFailure ??= summary.firstFailure ?? summary.error;
    idle = summary.refreshed + summary.validated === 0 ? idle + 1 : 0;
  }
  return totals;
}

main().catch((error: unknown) => {
  process.send!(
    { type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies InstanceMessage,
    () => process.exit(1),
  );
});
