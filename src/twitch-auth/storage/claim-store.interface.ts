/**
 * Remembers one-time keys for a while so that several instances agree a key
 * was used once: an OAuth `state` may be redeemed once, an EventSub message
 * id dispatched once. The interface and its injection token share one name.
 * A store that bounds its size must bound each namespace on its own: anyone
 * can create OAuth states, and they must never push out live message ids.
 */
export interface ClaimStore {
  /**
   * Records `key` in `namespace` until `expiresAt` (ms since the epoch).
   * Resolves true for the first claim of a live key, false when it was
   * already claimed and has not yet expired. Atomic across every instance
   * sharing the store.
   */
  claim(namespace: string, key: string, expiresAt: number): Promise<boolean>;

  /**
   * The same claim answered synchronously, for a store that needs no I/O (the
   * in-memory one). Optional: callers on a hot path (every EventSub message)
   * use it when present and fall back to `claim`, saving a promise and a
   * microtask per message.
   */
  claimNow?(namespace: string, key: string, expiresAt: number): boolean;
}

/** Injection token of the configured claim store. */
export const ClaimStore = Symbol('ClaimStore');
