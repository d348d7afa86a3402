import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { EventSubConduitOptions, EventSubConduitStatus } from '../../src/twitch-auth/index.js';
import { ROOT } from './build.js';
import { capturedLogs } from './log-capture.js';

/** The fixture script (plain JavaScript over `dist/`). */
export const CONDUIT_PROCESS_SCRIPT = join(ROOT, 'test/support/conduit-process.fixture.mjs');

/** How a `ConduitProcess` is set up. */
export interface ConduitProcessConfig {
  databaseUrl: string;
  clientId: string;
  clientSecret: string;
  idBaseUrl: string;
  helixBaseUrl: string;
  webSocketUrl: string;
  conduit: EventSubConduitOptions;
}

const started = new Set<ConduitProcess>();
process.once('exit', () => {
  for (const child of started) child.child.kill('SIGKILL');
});

/**
 * One application process (`conduit-process.fixture.mjs`) holding some of a
 * conduit's shards. It reports each dispatched notification's message id
 * (`dispatched`), and its shard status on request. Its output joins the
 * captured logs when it exits, so the secrets guard checks it.
 */
export class ConduitProcess {
  /** Message ids this process dispatched, in order. */
  readonly dispatched: string[] = [];
  /** This process's lease owner id. */
  owner = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';
  private pendingLine = '';
  private nextId = 1;
  private readonly pending = new Map<number, (status: EventSubConduitStatus) => void>();

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.read(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.on('message', (message: { id?: number; status?: EventSubConduitStatus }) => {
      if (message.id !== undefined) this.pending.get(message.id)?.(message.status!);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        started.delete(this);
        capturedLogs.push(`conduit process ${name} output: ${this.output}`);
        resolve({ code, signal });
      }),
    );
  }

  /** Starts the process and resolves once its application is initialized (within `timeoutMs`). */
  static async start(name: string, config: ConduitProcessConfig, timeoutMs = 60_000): Promise<ConduitProcess> {
    const child = spawn(process.execPath, [CONDUIT_PROCESS_SCRIPT], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', CONDUIT_PROCESS_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const conduitProcess = new ConduitProcess(name, child);
    started.add(conduitProcess);
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      child.on('message', (message: { event?: string; owner?: string }) => {
        if (message.event !== 'ready') return;
        clearTimeout(timer);
        conduitProcess.owner = message.owner ?? '';
        resolve(true);
      });
    });
    if (!(await Promise.race([ready, conduitProcess.exited.then(() => false)]))) {
      child.kill('SIGKILL');
      throw new Error(`conduit process ${name} did not start:\n${conduitProcess.output}`);
    }
    return conduitProcess;
  }

  /** The process's shard status; rejects after `timeoutMs`. */
  status(timeoutMs = 20_000): Promise<EventSubConduitStatus> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no status within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (status) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(status);
      });
      this.child.send({ op: 'status', id });
    });
  }

  /** Kills the process at once, as a crash would: no shutdown hook runs. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Asks the process to shut down (SIGTERM) and waits for it. */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.exited;
  }

  private read(chunk: string): void {
    const lines = (this.pendingLine + chunk).split('\n');
    this.pendingLine = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{"dispatched"')) this.dispatched.push((JSON.parse(line) as { dispatched: string }).dispatched);
      else this.output += `${line}\n`;
    }
  }
}
