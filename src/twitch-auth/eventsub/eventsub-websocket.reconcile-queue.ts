import type { StoredEventSubSubscription } from '../storage/eventsub-subscription-store.interface.js';

/** Users whose sockets are reconciled at once: opening a socket waits for Twitch's welcome, so one at a time would be slow at boot. */
const RECONCILE_CONCURRENCY = 8;

/** What the queue asks of the transport: make one user's sockets carry exactly `rows`. */
export interface WebSocketReconcileHost {
  reconcile(userId: string, rows: StoredEventSubSubscription[]): Promise<void>;
}

/**
 * The lease rounds' background work: each held user's sockets reconciled
 * with the stored subscriptions, a few users at a time, each user queued at
 * most once, so a slow Twitch never holds up the next lease renewal.
 */
export class WebSocketReconcileQueue {
  /** Users waiting for or in a reconcile, with the rows to start from. */
  private readonly pending = new Map<string, StoredEventSubSubscription[]>();
  private readonly queue: string[] = [];
  private running = 0;

  constructor(
    private readonly host: WebSocketReconcileHost,
    private readonly logger: { warn(message: string): void },
    private readonly stopped: () => boolean,
  ) {}

  /** Queues the user unless it is already waiting or being reconciled. */
  add(userId: string, rows: StoredEventSubSubscription[]): void {
    if (this.pending.has(userId)) return;
    this.pending.set(userId, rows);
    this.queue.push(userId);
    this.pump();
  }

  /** Forgets the users still waiting (those in a reconcile finish it). */
  clear(): void {
    this.queue.length = 0;
  }

  private pump(): void {
    while (this.running < RECONCILE_CONCURRENCY && this.queue.length > 0 && !this.stopped()) {
      const userId = this.queue.shift()!;
      const rows = this.pending.get(userId) ?? [];
      this.running++;
      void this.host
        .reconcile(userId, rows)
        .catch((error: unknown) =>
          this.logger.warn(
            `Could not reconcile the EventSub WebSocket subscriptions of user ${userId}: ${error instanceof Error ? error.message : String(error)}`,
          ),
        )
        .finally(() => {
          this.running--;
          this.pending.delete(userId);
          this.pump();
        });
    }
  }
}
