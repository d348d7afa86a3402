import { createHash } from 'node:crypto';

/** A WebSocket subscription the app asked for, kept so a restart re-creates it. */
export interface StoredEventSubSubscription {
  /** Stable id of the user, type, version and condition (`eventSubSubscriptionKey`). */
  key: string;
  /** Whose token (and sockets) the subscription uses. */
  userId: string;
  type: string;
  version: string;
  /** Twitch's condition fields, as given. */
  condition: Record<string, string>;
  /** Scopes checked on the user's token before Twitch is asked. */
  scopes: string[];
  createdAt: Date;
  /**
   * Twitch's id of the subscription as the instance holding the user's
   * sockets last created it (it changes with every socket), so any instance
   * can unsubscribe by it; null or absent before it was created.
   */
  subscriptionId?: string | null;
}

/**
 * Where desired WebSocket subscriptions are kept: Twitch forgets a
 * WebSocket subscription when its socket closes, so the module re-creates
 * these at boot, after every lost socket, and on the instance that takes a
 * user's sockets over. The interface and its injection
 * token share one name.
 */
export interface EventSubSubscriptionStore {
  /** Inserts, or replaces the row with the same key. */
  save(subscription: StoredEventSubSubscription): Promise<void>;
  /** Removes one; false when there was none. */
  delete(key: string): Promise<boolean>;
  /** Records Twitch's id of a stored subscription; false (and nothing stored) when the row is gone. */
  recordSubscriptionId(key: string, subscriptionId: string): Promise<boolean>;
  /** Every stored subscription (of one user when given), oldest first. */
  list(userId?: string): Promise<StoredEventSubSubscription[]>;
}

/** Injection token of the configured store. */
export const EventSubSubscriptionStore = Symbol('EventSubSubscriptionStore');

/**
 * The key of a user's subscription: a hash of user, type, version and the
 * condition with empty fields dropped and names sorted (Twitch lists unset
 * fields as `""`), so the same subscription asked twice is stored once.
 */
export function eventSubSubscriptionKey(userId: string, type: string, version: string, condition: Record<string, string>): string {
  const fields = Object.keys(condition)
    .filter((name) => condition[name] !== '' && condition[name] !== undefined)
    .sort()
    .map((name) => [name, condition[name]]);
  return createHash('sha256')
    .update(JSON.stringify([userId, type, version, fields]))
    .digest('hex');
}
