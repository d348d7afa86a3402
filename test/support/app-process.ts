import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './build.js';
import { capturedLogs } from './log-capture.js';

const started = new Set<AppProcess>();
process.once('exit', () => {
  for (const running of started) running.child.kill('SIGKILL');
});

/** How an `AppProcess` starts: a fixture script (plain JavaScript over `dist/`) given its config in an environment variable. */
export interface AppProcessLaunch {
  /** Names the process in errors and in the captured logs, e.g. `conduit process`. */
  kind: string;
  script: string;
  configVariable: string;
  config: unknown;
}

/**
 * One application process of a multi-process test. The fixture sends
 * `{ event: 'ready', owner }` once its app is initialized, answers
 * `{ op, id, args }` requests with `{ id, result }` or `{ id, error }`, and
 * prints a JSON line starting `{"dispatched"` per dispatched notification;
 * any other output joins the captured logs when it exits, so the secrets
 * guard checks it.
 */
export class AppProcess<Dispatch = unknown> {
  /** What the process reported dispatching, in order. */
  readonly dispatched: Dispatch[] = [];
  /** The process's lease owner id, as it reported when ready. */
  owner = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';
  private pendingLine = '';
  private nextId = 1;
  private readonly pending = new Map<number, (answer: { result?: unknown; error?: string }) => void>();

  protected constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly kind: string,
    private readonly readDispatch: (line: string) => Dispatch,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.read(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
      if (message.id !== undefined) this.pending.get(message.id)?.(message);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        started.delete(this);
        capturedLogs.push(`${kind} ${name} output: ${this.output}`);
        resolve({ code, signal });
      }),
    );
  }

  /** Spawns the fixture and resolves once it reported ready (within `timeoutMs`); `wrap` builds the subclass. */
  protected static async launch<P extends AppProcess<unknown>>(
    launch: AppProcessLaunch,
    timeoutMs: number,
    wrap: (child: ChildProcess) => P,
  ): Promise<P> {
    const child = spawn(process.execPath, [launch.script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', [launch.configVariable]: JSON.stringify(launch.config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const app = wrap(child);
    started.add(app);
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      child.on('message', (message: { event?: string; owner?: string }) => {
        if (message.event !== 'ready') return;
        clearTimeout(timer);
        app.owner = message.owner ?? '';
        resolve(true);
      });
    });
    if (!(await Promise.race([ready, app.exited.then(() => false)]))) {
      child.kill('SIGKILL');
      throw new Error(`${launch.kind} ${app.name} did not start:\n${app.output}`);
    }
    return app;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills the process at once, as a crash would: no shutdown hook runs. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Asks the process to shut down (SIGTERM) and waits for it. */
  async stop(): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    await this.exited;
  }

  /** Sends a request to the fixture; rejects with its error, or after `timeoutMs`. */
  protected call(op: string, args: unknown, timeoutMs = 30_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (answer.error !== undefined) reject(new Error(`${this.name}: ${op} failed: ${answer.error}`));
        else resolve(answer.result);
      });
      this.child.send({ op, id, args });
    });
  }

  private read(chunk: string): void {
    const lines = (this.pendingLine + chunk).split('\n');
    this.pendingLine = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{"dispatched"')) this.dispatched.push(this.readDispatch(line));
      else this.output += `${line}\n`;
    }
  }
}
