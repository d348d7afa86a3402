import { fork, type ChildProcess } from 'node:child_process';
import { childExecArgv } from './child.js';

/** A user token FakeTwitch issued. */
export interface IssuedPair {
  userId: string;
  accessToken: string;
  refreshToken: string;
}

/** What FakeTwitch saw since the last `reset`. */
export interface FakeTwitchStats {
  /** `POST /oauth2/token` with `grant_type=refresh_token`. */
  refreshRequests: number;
  /** Of those, answered with anything but 200. */
  refreshFailures: number;
  validateRequests: number;
  allRequests: number;
  /** Refresh tokens presented a second time (each revoked that user's grant). */
  reusedRefreshTokens: number;
}

export type FakeTwitchCommand = { id: number } & (
  | { type: 'issue'; userIds: string[]; scopes: string[]; expiresInSeconds?: number }
  | { type: 'stats' }
  | {
      type: 'publishEventSub';
      eventType: string;
      version: string;
      event: Record<string, unknown>;
      condition: Record<string, string>;
      count: number;
    }
  | { type: 'reset' }
  | { type: 'close' }
);

export interface FakeTwitchReply {
  id: number;
  value: unknown;
}

type CommandBody = FakeTwitchCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** FakeTwitch running in a child process (bench/servers/fake-twitch.process.ts), driven over IPC. */
export class FakeTwitchProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (value: unknown) => void>();

  private constructor(
    private readonly child: ChildProcess,
    /** Origin to use as `idBaseUrl`. */
    readonly url: string,
    /** EventSub WebSocket URL to use as `twitch.eventSubWebSocketUrl`. */
    readonly eventSubWebSocketUrl: string,
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    child.on('message', (reply: FakeTwitchReply) => {
      this.waiting.get(reply.id)?.(reply.value);
      this.waiting.delete(reply.id);
    });
  }

  static start(
    options: { latencyMs?: number; accessTokenTtlSeconds?: number; helixRateLimit?: false | { points: number; windowMs: number } } = {},
  ): Promise<FakeTwitchProcess> {
    const child = fork(new URL('../servers/fake-twitch.process.js', import.meta.url), [JSON.stringify(options)], {
      execArgv: childExecArgv('fake-twitch'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`FakeTwitch process exited early (code ${code})`)));
      child.once('message', (reply: FakeTwitchReply) => {
        const { url, eventSubWebSocketUrl, clientId, clientSecret } = reply.value as {
          url: string;
          eventSubWebSocketUrl: string;
          clientId: string;
          clientSecret: string;
        };
        child.removeAllListeners('exit');
        resolve(new FakeTwitchProcess(child, url, eventSubWebSocketUrl, clientId, clientSecret));
      });
    });
  }

  /** Issues one token per user id, as if each user had authorized the app. */
  issue(userIds: string[], scopes: string[], expiresInSeconds?: number): Promise<IssuedPair[]> {
    return this.call({ type: 'issue', userIds, scopes, expiresInSeconds }) as Promise<IssuedPair[]>;
  }

  /**
   * Publishes `count` copies of one EventSub event to the subscriptions whose
   * condition has `condition`'s values, over their transports; resolves once all were sent.
   */
  publishEventSub(
    eventType: string,
    version: string,
    event: Record<string, unknown>,
    condition: Record<string, string>,
    count: number,
  ): Promise<void> {
    return this.call({ type: 'publishEventSub', eventType, version, event, condition, count }) as Promise<void>;
  }

  stats(): Promise<FakeTwitchStats> {
    return this.call({ type: 'stats' }) as Promise<FakeTwitchStats>;
  }

  /** Forgets every token and the request log. */
  async reset(): Promise<void> {
    await this.call({ type: 'reset' });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.call({ type: 'close' });
    await exited;
  }

  private call(command: CommandBody): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...command, id } as FakeTwitchCommand);
    });
  }
}
