import type { EventSubSubscriptionStore, StoredEventSubSubscription } from '../storage/eventsub-subscription-store.interface.js';
import type { EventSubUserSockets, WebSocketSubscriptionRequest } from './eventsub-websocket.user-sockets.js';
import { errorMessage } from './eventsub-background.js';

/** What reconciling a user's sockets needs from the transport. */
export interface WebSocketReconcilerDeps {
  store: EventSubSubscriptionStore;
  /** Checks the user's token holds the scopes (throws `MissingScopesError`, `TokenNotFoundError`...). */
  tokens: { getUserToken(userId: string, scopes: string[]): Promise<unknown> };
  /** Whether this instance (still running) holds the user's lease. */
  holds(userId: string): boolean;
  /** The user's pool of sockets, made when missing. */
  sockets(userId: string): EventSubUserSockets;
  /** Forgets a user's empty pool. */
  drop(userId: string): void;
  renewSeconds: number;
  logger: { log(message: string): void; warn(message: string): void; error(message: string): void };
}

/**
 * Makes the sockets of a user this instance holds carry exactly the stored
 * subscriptions: creates the missing ones (a subscribe on another instance,
 * or a user just taken over), deletes at Twitch those no longer stored (an
 * unsubscribe on another instance), and records Twitch's ids so any
 * instance can unsubscribe by them. The caller runs it under the user's lock.
 */
export class WebSocketSubscriptionReconciler {
  /** Stored subscriptions whose creation failed and was logged; logged again only after it worked once. */
  private readonly failing = new Set<string>();

  constructor(private readonly deps: WebSocketReconcilerDeps) {}

  /**
   * `rows` come from the round's read; when they differ from what is live
   * they are read again, so a subscribe or unsubscribe since then is not undone.
   */
  async reconcile(userId: string, rows: StoredEventSubSubscription[]): Promise<void> {
    const { store, logger } = this.deps;
    if (!this.deps.holds(userId)) return;
    const sockets = this.deps.sockets(userId);
    const live = sockets.liveKeys();
    const stale = rows.some((row) => !live.has(row.key)) || [...live.keys()].some((key) => !rows.some((row) => row.key === key));
    const wanted = stale ? await store.list(userId) : rows;
    const keys = new Set(wanted.map((row) => row.key));
    for (const key of live.keys()) {
      if (keys.has(key)) continue;
      await sockets
        .unsubscribe(key)
        .then(() => logger.log(`Deleted an EventSub WebSocket subscription of user ${userId} that was unsubscribed on another instance.`))
        .catch((error) => logger.warn(`Could not delete an unsubscribed EventSub subscription of user ${userId}: ${errorMessage(error)}`));
    }
    for (const row of wanted) {
      if (!this.deps.holds(userId)) return;
      let subscriptionId = sockets.liveKeys().get(row.key);
      if (subscriptionId === undefined) {
        try {
          await this.deps.tokens.getUserToken(userId, row.scopes);
          subscriptionId = (await sockets.subscribe(requestOf(row))).subscription.id;
          this.failing.delete(row.key);
        } catch (error) {
          if (!this.failing.has(row.key)) {
            this.failing.add(row.key);
            logger.error(
              `Could not create the stored EventSub ${row.type} v${row.version} for user ${userId}; ` +
                `trying again every ${this.deps.renewSeconds} s: ${errorMessage(error)}`,
            );
          }
          continue;
        }
      }
      if (row.subscriptionId !== subscriptionId) await store.recordSubscriptionId(row.key, subscriptionId);
    }
    if (sockets.sessionIds().length === 0 && sockets.liveKeys().size === 0) this.deps.drop(userId);
  }
}

function requestOf(row: StoredEventSubSubscription): WebSocketSubscriptionRequest {
  return { key: row.key, userId: row.userId, type: row.type, version: row.version, condition: row.condition, scopes: row.scopes };
}
