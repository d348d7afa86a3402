import { WebSocket } from 'ws';
import type { WireEventSubWsMessage } from '../../src/twitch-auth/testing/index.js';

/** How long a test waits for one message or a close before failing (the machine is loaded: generous). */
const WAIT_MS = 20_000;

/** A raw EventSub WebSocket client for tests: every message kept, waits by type, the close code. */
export interface RawEventSubClient {
  socket: WebSocket;
  messages: WireEventSubWsMessage[];
  /** Resolves with the next message of `type` not returned yet (in arrival order). */
  next(type: string): Promise<WireEventSubWsMessage>;
  /** Resolves with the close code. */
  closed: Promise<number>;
  close(): void;
}

/** Opens a socket to `url` and records what FakeTwitch sends. */
export function connectEventSub(url: string): Promise<RawEventSubClient> {
  const socket = new WebSocket(url);
  const messages: WireEventSubWsMessage[] = [];
  const taken = new Set<WireEventSubWsMessage>();
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as WireEventSubWsMessage);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const next = (type: string): Promise<WireEventSubWsMessage> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = messages.find((message) => message.metadata.message_type === type && !taken.has(message));
        if (!found) return false;
        taken.add(found);
        finish();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${type} within ${WAIT_MS} ms (got ${messages.map((m) => m.metadata.message_type).join(', ')})`));
      }, WAIT_MS);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      const wake = (): void => void check();
      waiters.add(wake);
      check();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${url} within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve({ socket, messages, next, closed, close: () => socket.close() });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Polls `condition` (every 20 ms, at most 20 s): for state FakeTwitch updates when a close frame arrives. */
export async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!condition()) throw new Error('condition not met within 20 s');
}
