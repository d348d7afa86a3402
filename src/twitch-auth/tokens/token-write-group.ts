import type { BatchedUpdate } from '../storage/token-batches.interface.js';
import type { StoredTokenChanges, UpdateCondition } from '../storage/token-repository.interface.js';

/** Writes per transaction; a larger queue is committed in several. */
const MAX_GROUP = 500;

interface QueuedWrite {
  write: BatchedUpdate;
  resolve: (landed: boolean) => void;
  reject: (error: unknown) => void;
}

/** Where a group is committed: `TokenStore.updateMany` (secrets sealed there). */
export type GroupCommit = (writes: readonly BatchedUpdate[]) => Promise<boolean[]>;

/**
 * Group commit for fenced token writes. A write waits for the transaction
 * it lands in, exactly as a lone `update` would, so nothing is acknowledged
 * before it is stored; but the writes that arrive while a transaction is
 * being committed share the next one. On SQLite a commit is an fsync and on
 * Postgres a round trip, and these dominated maintenance when every token
 * paid its own. A lone write is committed at once (no timer, no added wait).
 */
export class TokenWriteGroup {
  private queue: QueuedWrite[] = [];
  private committing = false;

  constructor(private readonly commit: GroupCommit) {}

  /** Applies `changes` if `condition` holds; resolves once committed with whether it landed. */
  write(userId: string, changes: Omit<StoredTokenChanges, 'intents'>, condition: UpdateCondition): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ write: { userId, changes, condition }, resolve, reject });
      if (!this.committing) {
        this.committing = true;
        // Writes settled in the same turn of the event loop join this first group.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      // Two writes of one user in a group would race each other's fence; the later one waits for the next group.
      const users = new Set<string>();
      const now: QueuedWrite[] = [];
      for (const queued of group) {
        if (users.has(queued.write.userId)) this.queue.push(queued);
        else {
          users.add(queued.write.userId);
          now.push(queued);
        }
      }
      try {
        const landed = await this.commit(now.map((queued) => queued.write));
        now.forEach((queued, index) => queued.resolve(landed[index] === true));
      } catch (error) {
        for (const queued of now) queued.reject(error);
      }
    }
    this.committing = false;
  }
}
