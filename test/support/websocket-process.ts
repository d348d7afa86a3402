import { join } from 'node:path';
import type { EventSubSubscription, EventSubWebSocketOptions, EventSubWebSocketStatus } from '../../src/twitch-auth/index.js';
import { AppProcess } from './app-process.js';
import { ROOT } from './build.js';

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

/**
 * One application process (`websocket-process.fixture.mjs`) that may hold
 * some users' EventSub WebSocket sockets. It reports each dispatched
 * notification (`dispatched`: message id and broadcaster), and answers
 * status, addUser and subscribe over IPC.
 */
export class WebSocketProcess extends AppProcess<{ messageId: string; userId: string | null }> {
  /** Starts the process and resolves once its application is initialized (within `timeoutMs`). */
  static start(name: string, config: WebSocketProcessConfig, timeoutMs = 60_000): Promise<WebSocketProcess> {
    const launch = { kind: 'websocket process', script: WEBSOCKET_PROCESS_SCRIPT, configVariable: 'WEBSOCKET_PROCESS_CONFIG', config };
    return AppProcess.launch(launch, timeoutMs, (child) => new WebSocketProcess(name, child, launch.kind, readDispatch));
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
}

function readDispatch(line: string): { messageId: string; userId: string | null } {
  const parsed = JSON.parse(line) as { dispatched: string; userId: string | null };
  return { messageId: parsed.dispatched, userId: parsed.userId };
}
