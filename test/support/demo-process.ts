import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MaintenanceStatus } from '../../src/twitch-auth/index.js';
import { DEMO_MAIN } from './build.js';
import { freePort } from './net.js';
import { capturedLogs } from './log-capture.js';

/** Every demo process started by this file, so `stopAll` can end them even after a failure. */
const started = new Set<DemoProcess>();
process.once('exit', () => {
  for (const demo of started) demo.child.kill('SIGKILL');
});

/** One `node dist/main.js` process of the demo app. */
export class DemoProcess {
  output = '';
  readonly exited: Promise<void>;
  private alive = true;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolveExit) =>
      child.once('exit', () => {
        this.alive = false;
        started.delete(this);
        resolveExit();
      }),
    );
  }

  /**
   * Starts the demo with exactly `env` (plus PATH, PORT and HOST; PORT left unset with `defaultPort`) in `cwd`
   * and resolves once it answers HTTP. Its output joins the captured logs
   * when it exits, so the secrets guard checks it never printed a secret.
   */
  static async start(
    name: string,
    env: Record<string, string>,
    cwd: string,
    options: { defaultPort?: boolean } = {},
  ): Promise<DemoProcess> {
    // The demo's own default port when asked for (PORT unset), as `npm start` on a fresh machine.
    const port = options.defaultPort ? 3000 : await freePort();
    const listen = options.defaultPort ? { HOST: '127.0.0.1' } : { PORT: String(port), HOST: '127.0.0.1' };
    const child = spawn(process.execPath, [DEMO_MAIN], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...listen, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const demo = new DemoProcess(name, port, child);
    started.add(demo);
    void demo.exited.then(() => capturedLogs.push(`demo ${name} output: ${demo.output}`));
    for (const deadline = Date.now() + 60_000; ;) {
      if (!demo.alive) throw new Error(`demo ${name} exited during startup:\n${demo.output}`);
      if (Date.now() > deadline) throw new Error(`demo ${name} did not answer HTTP within 60 s:\n${demo.output}`);
      try {
        if ((await fetch(`${demo.url}/health/maintenance`)).ok) return demo;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
  }

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.alive;
  }

  /** The process's scheduler state from `/health/maintenance`. */
  async maintenance(): Promise<MaintenanceStatus> {
    return (await (await fetch(`${this.url}/health/maintenance`)).json()) as MaintenanceStatus;
  }

  /** `name: N ticks, S skipped, B over budget` from its scheduler state and its log. */
  async tickReport(): Promise<string> {
    const { ticks, skippedTicks } = await this.maintenance();
    const overBudget = this.output.split('\n').filter((line) => line.includes('used up its')).length;
    return `${this.name}: ${ticks} ticks, ${skippedTicks} skipped, ${overBudget} over budget`;
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await this.exited;
  }
}

/** Kills every demo process still running (SIGKILL), for `afterAll` even after a failure. */
export async function killAllDemos(): Promise<void> {
  await Promise.all([...started].map((demo) => demo.stop('SIGKILL')));
}
