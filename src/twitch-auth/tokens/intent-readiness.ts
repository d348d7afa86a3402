import { TwitchAuthError } from '../twitch-auth.errors.js';
import type { TokenInfo } from './access-token.js';
import { toTokenInfo, type PlainToken } from './token-store.js';

interface Waiter {
  resolve(info: TokenInfo): void;
  reject(error: unknown): void;
}

/**
 * Backs `TokenService.whenReady`: promises that resolve once a valid token
 * holds an intent. The service reports every token it stores and every
 * intent it assigns (`notify`), so a waiter needs no polling; a waiter
 * registers before reading the store, so a token stored meanwhile is not missed.
 */
export class IntentReadiness {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private stopped = false;

  constructor(private readonly findByIntent: (intent: string) => Promise<PlainToken | null>) {}

  /** Resolves with the token holding `intent` once it is valid; at once when it already is. */
  whenReady(intent: string, signal?: AbortSignal): Promise<TokenInfo> {
    if (this.stopped) return Promise.reject(shutDown());
    signal?.throwIfAborted();
    return new Promise<TokenInfo>((resolve, reject) => {
      const set = this.waiters.get(intent) ?? new Set<Waiter>();
      this.waiters.set(intent, set);
      const onAbort = () => finish(() => reject(signal?.reason));
      const finish = (settle: () => void) => {
        if (!set.delete(waiter)) return;
        if (set.size === 0 && this.waiters.get(intent) === set) this.waiters.delete(intent);
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const waiter: Waiter = {
        resolve: (info) => finish(() => resolve(info)),
        reject: (error) => finish(() => reject(error)),
      };
      set.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.findByIntent(intent).then(
        (row) => {
          if (row && row.status === 'valid') waiter.resolve(toTokenInfo(row));
        },
        (error: unknown) => waiter.reject(error),
      );
    });
  }

  /** A token was stored or given intents: resolves the waiters of each intent it now holds while valid. */
  notify(info: TokenInfo): void {
    if (info.status !== 'valid') return;
    for (const intent of info.intents) {
      for (const waiter of [...(this.waiters.get(intent) ?? [])]) waiter.resolve(info);
    }
  }

  /** Rejects every waiter: nothing will be stored after shutdown. */
  stop(): void {
    this.stopped = true;
    for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.reject(shutDown());
  }
}

function shutDown(): TwitchAuthError {
  return new TwitchAuthError('The application shut down before a token for this intent was ready.');
}
