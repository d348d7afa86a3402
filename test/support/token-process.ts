import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TwitchAuthModuleOptions } from '../../src/twitch-auth/index.js';
import { ROOT } from './build.js';
import { capturedLogs } from './log-capture.js';

/** The fixture script (plain JavaScript over `dist/`). */
const SCRIPT = join(ROOT, 'test/support/token-process.fixture.mjs');

/** How a `TokenProcess` is set up; it reaches Twitch at `idBaseUrl` (often a recording proxy). */
export interface TokenProcessConfig {
  databaseUrl: string;
  clientId: string;
  clientSecret: string;
  idBaseUrl: string;
  helixBaseUrl: string;
  /** `twitch.timeoutMs`; the module's default (10 s) when omitted. */
  timeoutMs?: number;
  /** Maintenance options; off when omitted. */
  maintenance?: TwitchAuthModuleOptions['maintenance'];
}

/** A token call's outcome in the process: the access token, or the error's name and message. */
export type TokenCallResult = { ok: true; accessToken: string } | { ok: false; error: { name: string; message: string } };

interface Reply {
  id?: number;
  event?: string;
  ok?: boolean;
  accessToken?: string;
  error?: { name: string; message: string };
}

const started = new Set<TokenProcess>();
process.once('exit', () => {
  for (const child of started) child.child.kill('SIGKILL');
});

/**
 * One application process (`test/support/token-process.fixture.mjs`) with
 * TwitchAuthModule on a shared database, driven over IPC, so a test can make
 * several processes call `TokenService` at the same moment or stop one while
 * a refresh is in flight. Its output joins the captured logs when it exits,
 * so the secrets guard checks it.
 */
export class TokenProcess {
  output = '';
  /** Lifecycle events the process reported (`ready`, `shutdown-started`). */
  readonly events: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private alive = true;
  private nextId = 1;
  private readonly pending = new Map<number, (result: TokenCallResult) => void>();
  private readonly eventWaiters: { event: string; resolve: () => void }[] = [];

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.on('message', (message: Reply) => this.receive(message));
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        this.alive = false;
        started.delete(this);
        capturedLogs.push(`token process ${name} output: ${this.output}`);
        for (const settle of this.pending.values()) settle({ ok: false, error: { name: 'ProcessExited', message: `${name} exited` } });
        this.pending.clear();
        resolveExit({ code, signal });
      }),
    );
  }

  /** Starts the process and resolves once its application is initialized (within `timeoutMs`). */
  static async start(name: string, config: TokenProcessConfig, timeoutMs = 60_000): Promise<TokenProcess> {
    const child = spawn(process.execPath, [SCRIPT], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TOKEN_PROCESS_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const tokenProcess = new TokenProcess(name, child);
    started.add(tokenProcess);
    const ready = tokenProcess.waitForEvent('ready', timeoutMs).then(() => true);
    if (!(await Promise.race([ready, tokenProcess.exited.then(() => false)]))) {
      throw new Error(`token process ${name} exited during startup:\n${tokenProcess.output}`);
    }
    return tokenProcess;
  }

  get running(): boolean {
    return this.alive;
  }

  /**
   * Calls `TokenService[op](userId)` in the process (`reportUnauthorized` with
   * `accessToken` as the rejected token); rejects when no answer came within `timeoutMs`.
   */
  call(
    op: 'getUserToken' | 'refresh' | 'reportUnauthorized',
    userId: string,
    options: { accessToken?: string; timeoutMs?: number } = {},
  ): Promise<TokenCallResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const id = this.nextId++;
    return new Promise<TokenCallResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.child.send({ id, op, userId, accessToken: options.accessToken });
    });
  }

  /** Resolves once the process reported `event` (at once if it already did); rejects after `timeoutMs`. */
  waitForEvent(event: string, timeoutMs: number): Promise<void> {
    if (this.events.includes(event)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${event}" within ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      this.eventWaiters.push({
        event,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Sends `signal` (if still running). */
  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    this.kill(signal);
    await this.exited;
  }

  private receive(message: Reply): void {
    if (message.event) {
      this.events.push(message.event);
      for (const waiter of this.eventWaiters.filter((w) => w.event === message.event)) {
        this.eventWaiters.splice(this.eventWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      return;
    }
    const settle = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!settle) return;
    this.pending.delete(message.id!);
    settle(message.ok ? { ok: true, accessToken: message.accessToken! } : { ok: false, error: message.error! });
  }
}

/** Kills every token process still running (SIGKILL), for `afterAll` even after a failure. */
export async function killAllTokenProcesses(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop('SIGKILL')));
}
