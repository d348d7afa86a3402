import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { EventSubSubscription, EventSubWebSocketOptions, EventSubWebSocketStatus } from '../../src/twitch-auth/index.js';
import { ROOT } from './build.js';
import { capturedLogs } from './log-capture.js';

/** The fixture script (plain JavaScript over `dist/`). */
export const WEBSOCKET_PROCESS_SCRIPT = join(ROOT, 'test/support/websocket-process.fixture.mjs');

/** How a `WebSocketProcess` is set up. */
export interface WebSocketProcessConfig {
  databaseUrl: string;
  clientId: string;
  clientSecret: string;
  idBaseUrl: string;
  helixBaseUrl: string;
  webSocketUrl: string;
  webSocket: EventSubWebSocketOptions;
}

/** `EventSubWebSocketTransport.status()` with the session ids of each held user. */
export type WebSocketProcessStatus = EventSubWebSocketStatus & { sockets: Record<string, string[]> };

const started = new Set<WebSocketProcess>();
process.once('exit', () => {
  for (const child of started) child.child.kill('SIGKILL');
});

/**
 * One application process (`websocket-process.fixture.mjs`) that may hold
 * some users' EventSub WebSocket sockets. It reports each dispatched
 * notification (`dispatched`), and answers status, addUser and subscribe
 * over IPC. Its output joins the captured logs when it exits, so the secrets
 * guard checks it.
 */
export class WebSocketProcess {
  /** Message ids this process dispatched, with the broadcaster they were for, in order. */
  readonly dispatched: { messageId: string; userId: string | null }[] = [];
  /** This process's lease owner id. */
  owner = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';
  private pendingLine = '';
  private nextId = 1;
  private readonly pending = new Map<number, (answer: { result?: unknown; error?: string }) => void>();

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.read(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
      if (message.id !== undefined) this.pending.get(message.id)?.(message);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        started.delete(this);
        capturedLogs.push(`websocket process ${name} output: ${this.output}`);
        resolve({ code, signal });
      }),
    );
  }

  /** Starts the process and resolves once its application is initialized (within `timeoutMs`). */
  static async start(name: string, config: WebSocketProcessConfig, timeoutMs = 60_000): Promise<WebSocketProcess> {
    const child = spawn(process.execPath, [WEBSOCKET_PROCESS_SCRIPT], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', WEBSOCKET_PROCESS_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const starting = new WebSocketProcess(name, child);
    started.add(starting);
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      child.on('message', (message: { event?: string; owner?: string }) => {
        if (message.event !== 'ready') return;
        clearTimeout(timer);
        starting.owner = message.owner ?? '';
        resolve(true);
      });
    });
    if (!(await Promise.race([ready, starting.exited.then(() => false)]))) {
      child.kill('SIGKILL');
      throw new Error(`websocket process ${name} did not start:\n${starting.output}`);
    }
    return starting;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Which users' sockets the process holds. */
  status(): Promise<WebSocketProcessStatus> {
    return this.call('status', {}) as Promise<WebSocketProcessStatus>;
  }

  /** `TokenService.addUser` in the process. */
  async addUser(accessToken: string, refreshToken: string | null): Promise<void> {
    await this.call('addUser', { accessToken, refreshToken: refreshToken ?? undefined });
  }

  /** `EventSubService.subscribe(type, version, condition, { transport: 'websocket', userId })` in the process. */
  subscribe(type: string, version: string, condition: Record<string, string>, userId: string): Promise<EventSubSubscription> {
    return this.call('subscribe', { type, version, condition, userId }) as Promise<EventSubSubscription>;
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

  private call(op: string, args: unknown, timeoutMs = 30_000): Promise<unknown> {
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
      if (line.startsWith('{"dispatched"')) {
        const parsed = JSON.parse(line) as { dispatched: string; userId: string | null };
        this.dispatched.push({ messageId: parsed.dispatched, userId: parsed.userId });
      } else this.output += `${line}\n`;
    }
  }
}
