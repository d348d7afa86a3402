import { TwitchAuthEvent } from '../twitch-auth.events.js';
import type { EventSubNotification } from '../eventsub/eventsub.types.js';

/** Width of one bucket of the activity chart. */
export const ACTIVITY_BUCKET_MS = 15 * 60_000;
/** Buckets kept: 24 hours. */
export const ACTIVITY_BUCKETS = 96;
/** EventSub notifications and revoked users remembered for the page. */
export const RECENT_LIMIT = 20;

/** Counts of one time bucket. */
export interface ActivityBucket {
  /** Start of the bucket. */
  startsAt: number;
  refreshed: number;
  validated: number;
  failed: number;
}

/** An EventSub notification as the page shows it: never a field of its event. */
export interface RecentNotification {
  type: string;
  version: string;
  transport: string | null;
  messageId: string;
  receivedAt: number;
}

/** A user whose grant was found dead or revoked from the page. */
export interface RecentRevocation {
  userId: string;
  login: string | null;
  reason: string;
  at: number;
}

/** What `ActivityLog.listen` needs: subscribing to the module's events. */
export type EventSubscriber = (name: string, listener: (payload: unknown) => void) => () => void;

/**
 * This process's recent activity, fed by the module's events: counts per
 * 15-minute bucket over 24 hours (a fixed ring, so memory is bounded), and
 * the last EventSub notifications and revocations.
 */
export class ActivityLog {
  private readonly ring: ActivityBucket[] = [];
  private readonly notifications: RecentNotification[] = [];
  private readonly revocations: RecentRevocation[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Subscribes to the events it counts; returns the function that unsubscribes. */
  listen(subscribe: EventSubscriber): () => void {
    const stops = [
      subscribe(TwitchAuthEvent.TokenRefreshed, () => this.count('refreshed')),
      subscribe(TwitchAuthEvent.TokenValidated, () => this.count('validated')),
      subscribe(TwitchAuthEvent.TokenRefreshFailed, () => this.count('failed')),
      subscribe(TwitchAuthEvent.TokenRevoked, (payload) => {
        const event = payload as { userId: string; login: string | null; reason: string };
        this.revoked(event.userId, event.login, event.reason);
      }),
      subscribe(TwitchAuthEvent.EventSubNotification, (payload) => this.notification(payload as EventSubNotification)),
    ];
    return () => stops.forEach((stop) => stop());
  }

  /** Adds one to a counter of the current bucket. */
  count(kind: 'refreshed' | 'validated' | 'failed'): void {
    this.bucket(this.now())[kind]++;
  }

  /** Remembers a user whose token is gone (kept even after the row is deleted). */
  revoked(userId: string, login: string | null, reason: string): void {
    remember(this.revocations, { userId, login, reason, at: this.now() });
  }

  /** Remembers a notification's envelope; its event, which may hold personal data, is not kept. */
  notification(payload: EventSubNotification): void {
    const subscription = payload.subscription;
    remember(this.notifications, {
      type: subscription.type,
      version: subscription.version,
      transport: subscription.transport?.method ?? null,
      messageId: payload.messageId,
      receivedAt: this.now(),
    });
  }

  /** The last 24 hours, oldest bucket first; buckets with no activity are zero. */
  buckets(): ActivityBucket[] {
    const current = Math.floor(this.now() / ACTIVITY_BUCKET_MS);
    const out: ActivityBucket[] = [];
    for (let index = current - ACTIVITY_BUCKETS + 1; index <= current; index++) {
      const stored = this.ring[index % ACTIVITY_BUCKETS];
      const startsAt = index * ACTIVITY_BUCKET_MS;
      out.push(stored && stored.startsAt === startsAt ? { ...stored } : { startsAt, refreshed: 0, validated: 0, failed: 0 });
    }
    return out;
  }

  /** Most recent notification first. */
  recentNotifications(): RecentNotification[] {
    return [...this.notifications].reverse();
  }

  /** Most recent revocation first. */
  recentRevocations(): RecentRevocation[] {
    return [...this.revocations].reverse();
  }

  private bucket(at: number): ActivityBucket {
    const index = Math.floor(at / ACTIVITY_BUCKET_MS);
    const startsAt = index * ACTIVITY_BUCKET_MS;
    const slot = index % ACTIVITY_BUCKETS;
    let bucket = this.ring[slot];
    if (!bucket || bucket.startsAt !== startsAt) {
      bucket = { startsAt, refreshed: 0, validated: 0, failed: 0 };
      this.ring[slot] = bucket;
    }
    return bucket;
  }
}

function remember<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT_LIMIT) list.splice(0, list.length - RECENT_LIMIT);
}
