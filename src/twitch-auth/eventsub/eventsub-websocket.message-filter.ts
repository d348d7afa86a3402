import type { EventSubWebSocketConnectionOptions } from './eventsub-websocket.types.js';
import { parseEventSubTimestamp } from './eventsub-signature.js';

/** Message ids remembered to drop a message repeated on both sockets of a reconnect. */
const RECENT_IDS = 1024;

/**
 * What an `EventSubWebSocketConnection` drops before delivery: ids among the
 * last 1024 delivered (a reconnect may repeat a message on both sockets) and
 * messages older than `maxMessageAgeMs`.
 */
export class EventSubMessageFilter {
  private readonly recentIds = new Set<string>();
  private readonly recentOrder: string[] = new Array<string>(RECENT_IDS);
  private recentNext = 0;
  private cutoff = '';
  private cutoffMadeAt = -Infinity;

  constructor(private readonly options: Pick<EventSubWebSocketConnectionOptions, 'maxMessageAgeMs'>) {}

  /** Whether this id is among the last 1024 remembered. */
  seen(messageId: string): boolean {
    return this.recentIds.has(messageId);
  }

  /**
   * Whether a message is older than `maxMessageAgeMs`. Twitch's timestamps
   * are UTC (`…Z`), which sort as text: compared with a cutoff string made
   * once a second instead of parsing every timestamp. Anything else is parsed.
   */
  tooOld(timestamp: string, now: number): boolean {
    const maxAge = this.options.maxMessageAgeMs!;
    if (timestamp.length >= 20 && timestamp.charCodeAt(timestamp.length - 1) === 90 /* Z */ && timestamp.charCodeAt(10) === 84 /* T */) {
      if (now - this.cutoffMadeAt >= 1000) {
        this.cutoffMadeAt = now;
        this.cutoff = new Date(now - maxAge).toISOString();
      }
      // The cutoff is up to a second stale: it errs towards accepting, never towards dropping a fresh message.
      return timestamp < this.cutoff;
    }
    const sentAt = parseEventSubTimestamp(timestamp);
    return sentAt === null || now - sentAt > maxAge;
  }

  /** Notes a delivered message id; the oldest of the last 1024 is forgotten. */
  remember(messageId: string): void {
    const evicted = this.recentOrder[this.recentNext];
    if (evicted !== undefined) this.recentIds.delete(evicted);
    this.recentOrder[this.recentNext] = messageId;
    this.recentNext = (this.recentNext + 1) % RECENT_IDS;
    this.recentIds.add(messageId);
  }
}
