import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventSubSocketLeaseStore } from '../storage/eventsub-socket-lease-store.interface.js';
import type { EventSubSubscriptionStore, StoredEventSubSubscription } from '../storage/eventsub-subscription-store.interface.js';
import { WebSocketReconcileQueue } from './eventsub-websocket.reconcile-queue.js';
import { errorMessage, waitAtMost } from './eventsub-background.js';

/** Shutdown waits at most this long for a running round and for handing the users back. */
const SHUTDOWN_WAIT_MS = 5_000;

/** What this instance holds of the users' EventSub WebSocket sockets (`EventSubWebSocketTransport.status()`). */
export interface EventSubWebSocketStatus {
  /** This instance's lease owner id. */
  owner: string;
  /** Users whose sockets this instance holds the lease of, sorted. */
  usersHeld: string[];
  /** Live instances sharing the users, as of the last round. */
  instances: number;
  /** Users with stored subscriptions, as of the last round. */
  users: number;
  /** When the last round finished, or null. */
  lastRoundAt: Date | null;
  /** Why the last round failed, or null. */
  lastError: string | null;
}

/** What the lease rounds need from the transport that holds the sockets. */
export interface WebSocketLeaseHost {
  /** Users this instance has sockets (or a pool) for. */
  localUsers(): string[];
  /** Closes a user's sockets without touching the stored subscriptions (another instance creates them). */
  drop(userId: string, why: string): void;
  /** Makes the user's sockets carry exactly the stored subscriptions (`rows` may be slightly stale). */
  reconcile(userId: string, rows: StoredEventSubSubscription[]): Promise<void>;
}

/** How `EventSubWebSocketLeases` is set up. */
export interface WebSocketLeaseDeps {
  leases: EventSubSocketLeaseStore;
  subscriptions: EventSubSubscriptionStore;
  host: WebSocketLeaseHost;
  leaseSeconds: number;
  renewSeconds: number;
  /** Take free users in rounds (`restoreAtBoot`); false: only hold users subscribed for on this instance. */
  takeUsers: boolean;
  /**
   * Whether other processes may share the users (leases in the database):
   * then rounds run from boot, to take over users of instances that die.
   * Otherwise (leases in memory) they start with the first user this
   * instance takes, so an app that never subscribes over WebSocket runs no timer.
   */
  shared: boolean;
  logger: { log(message: string): void; warn(message: string): void };
}

/**
 * One instance at a time opens a user's sockets. Every `renewSeconds` each
 * instance announces itself, renews its user leases, drops the users it lost
 * (its lease lapsed and another took it), releases users left without
 * stored subscriptions, takes free or lapsed users up to its fair share
 * (users ÷ live instances, rounded up) or hands back what is over it, and
 * reconciles the sockets of the users it holds with the stored
 * subscriptions (so `subscribe`/`unsubscribe` on another instance take
 * effect here within a round). On shutdown it closes its sockets and frees
 * its users at once, so the others take them at their next round.
 */
export class EventSubWebSocketLeases {
  /** This instance's lease owner id (host, pid and a random part, so a restart is a new owner). */
  readonly owner = `${hostname().slice(0, 80)}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private held = new Set<string>();
  /** Users taken by `acquire` or subscribed for since the running round started: its reads may predate them. */
  private readonly takenDuringRound = new Set<string>();
  /** Users a subscribe is working on (counted): their stored row may not be written yet, so a round must not give them up. */
  private readonly pinned = new Map<string, number>();
  private readonly reconciles: WebSocketReconcileQueue;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private round: Promise<void> | null = null;
  private stopped = false;
  private members = 0;
  private users = 0;
  private lastRoundAt: number | null = null;
  private lastError: string | null = null;
  /** `performance.now()` when the last round whose renewal landed began: the leases written then lapse `leaseSeconds` later. */
  private renewedAt: number | null = null;

  constructor(private readonly deps: WebSocketLeaseDeps) {
    this.reconciles = new WebSocketReconcileQueue(deps.host, deps.logger, () => this.stopped);
  }

  /** Starts the rounds (the first one now, in the background) when the users may be shared; see `shared`. */
  start(): void {
    if (this.deps.shared) this.startRounds(0);
  }

  private startRounds(firstInMs: number): void {
    if (this.started) return;
    this.started = true;
    this.schedule(firstInMs);
  }

  /** Whether this instance holds the user's lease (as of its last round or take). */
  holds(userId: string): boolean {
    return this.held.has(userId);
  }

  /**
   * Takes the user's lease when it is free, lapsed or this instance's
   * already; false when another live instance holds it.
   */
  async acquire(userId: string): Promise<boolean> {
    if (this.stopped) return false;
    if (this.held.has(userId)) return true;
    const now = Date.now();
    const claimed = await this.deps.leases.claim(this.owner, [userId], now + this.deps.leaseSeconds * 1000, now);
    if (claimed.length === 0) return false;
    this.held.add(userId);
    this.takenDuringRound.add(userId);
    this.startRounds(this.deps.renewSeconds * 1000);
    return true;
  }

  /**
   * Runs `work` (a subscribe) with the user pinned: rounds neither release
   * nor hand back the user meanwhile, though its stored row is not written yet.
   */
  async pinnedWhile<T>(userId: string, work: () => Promise<T>): Promise<T> {
    this.pinned.set(userId, (this.pinned.get(userId) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (this.pinned.get(userId) ?? 1) - 1;
      if (left > 0) this.pinned.set(userId, left);
      else this.pinned.delete(userId);
      // A round running now may have read the store before the row was written.
      this.takenDuringRound.add(userId);
    }
  }

  /** Runs one round now (after the running one); resolves when it is done. */
  async runRound(): Promise<void> {
    while (this.round) await this.round;
    this.round = this.roundSafely().finally(() => (this.round = null));
    await this.round;
  }

  /** Stops the rounds, closes every socket and frees every user at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await waitAtMost(this.round ?? Promise.resolve(), SHUTDOWN_WAIT_MS);
    this.reconciles.clear();
    for (const userId of this.deps.host.localUsers()) this.deps.host.drop(userId, 'this instance is shutting down');
    this.held.clear();
    await waitAtMost(this.deps.leases.leave(this.owner), SHUTDOWN_WAIT_MS).catch((error: unknown) =>
      this.deps.logger.warn(
        `Could not hand the EventSub WebSocket users back; other instances take them when the leases lapse: ${errorMessage(error)}`,
      ),
    );
  }

  /** What this instance holds, for health checks and dashboards. */
  status(): EventSubWebSocketStatus {
    return {
      owner: this.owner,
      usersHeld: [...this.held].sort(),
      instances: this.members,
      users: this.users,
      lastRoundAt: this.lastRoundAt === null ? null : new Date(this.lastRoundAt),
      lastError: this.lastError,
    };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runRound()
        .catch(() => undefined)
        .finally(() => this.schedule(this.deps.renewSeconds * 1000));
    }, delayMs);
  }

  private async roundSafely(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.roundOnce();
      this.lastError = null;
      this.lastRoundAt = Date.now();
    } catch (error) {
      this.lastError = errorMessage(error);
      this.deps.logger.warn(`EventSub WebSocket lease round failed; retrying in ${this.deps.renewSeconds} s: ${this.lastError}`);
      this.dropIfLapsing();
    }
  }

  /**
   * After rounds that could not renew (the database unreachable), the
   * leases are about to lapse and another instance may take the users: this
   * instance closes their sockets one round before that, so no user ever has
   * sockets on two instances (Twitch allows 3 per user).
   */
  private dropIfLapsing(): void {
    const { leaseSeconds, renewSeconds, host } = this.deps;
    if (this.renewedAt === null || performance.now() - this.renewedAt < (leaseSeconds - renewSeconds) * 1000) return;
    const users = host.localUsers();
    if (users.length === 0 && this.held.size === 0) return;
    for (const userId of users) host.drop(userId, 'its lease could not be renewed and is about to lapse');
    this.held.clear();
    this.deps.logger.warn(
      `Closed the EventSub WebSocket sockets of ${users.length} user(s): their leases could not be renewed for ${Math.round((performance.now() - this.renewedAt) / 1000)} s and lapse in ${renewSeconds} s or less, when other instances may take them.`,
    );
  }

  private async roundOnce(): Promise<void> {
    const { leases, host, leaseSeconds } = this.deps;
    const startedAt = performance.now();
    const now = Date.now();
    const until = now + leaseSeconds * 1000;
    this.takenDuringRound.clear();
    const members = await leases.announce(this.owner, until, now);
    const renewed = new Set(await leases.renew(this.owner, until));
    this.renewedAt = startedAt;
    const rows = await this.deps.subscriptions.list();
    if (this.stopped) return;
    const byUser = new Map<string, StoredEventSubSubscription[]>();
    for (const row of rows) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row]);
    this.members = members.length;
    this.users = byUser.size;
    // A user taken while this round read the store is held, whatever the reads said.
    for (const userId of this.held) if (!renewed.has(userId) && !this.takenDuringRound.has(userId)) this.held.delete(userId);
    for (const userId of renewed) this.held.add(userId);
    for (const userId of host.localUsers()) {
      if (!this.held.has(userId)) host.drop(userId, 'another instance holds its lease now');
    }
    const unwanted = [...this.held].filter((userId) => !byUser.has(userId) && !this.keep(userId));
    if (unwanted.length > 0) {
      await leases.release(this.owner, unwanted);
      for (const userId of unwanted) {
        this.held.delete(userId);
        host.drop(userId, 'no subscription of the user is stored any more');
      }
    }
    await this.balance(byUser, members.length, until);
    // In the background: a slow Twitch must not hold up the next renewal and cost this instance its leases.
    for (const userId of [...this.held].sort()) {
      const wanted = byUser.get(userId);
      if (wanted) this.reconciles.add(userId, wanted);
    }
  }

  /** A user taken or being subscribed for since the round's reads: they may not show it yet. */
  private keep(userId: string): boolean {
    return this.takenDuringRound.has(userId) || this.pinned.has(userId);
  }

  /** Takes free users up to the fair share, or hands back what is over it. */
  private async balance(byUser: Map<string, StoredEventSubSubscription[]>, members: number, until: number): Promise<void> {
    // Users subscribed for during this round count, and are never the ones handed back.
    const users = new Set([...byUser.keys(), ...this.held].filter((userId) => byUser.has(userId) || this.keep(userId))).size;
    const share = Math.ceil(users / Math.max(1, members));
    const mine = [...this.held].sort((a, b) => Number(this.keep(b)) - Number(this.keep(a)));
    if (mine.length > share) {
      const extras = mine.slice(share).filter((userId) => !this.keep(userId));
      await this.deps.leases.release(this.owner, extras);
      for (const userId of extras) {
        this.held.delete(userId);
        this.deps.host.drop(userId, `handed to another instance (${members} instances share ${users} users)`);
      }
      if (extras.length > 0) {
        this.deps.logger.log(
          `Handed the EventSub WebSocket sockets of ${extras.length} user(s) back: ${members} instances share ${users} users.`,
        );
      }
      return;
    }
    if (!this.deps.takeUsers || mine.length >= share || this.stopped) return;
    const now = Date.now();
    const taken = new Map((await this.deps.leases.list()).map((lease) => [lease.userId, lease]));
    const free = [...byUser.keys()].filter((userId) => {
      const lease = taken.get(userId);
      return !this.held.has(userId) && (!lease || lease.leaseExpiresAt <= now);
    });
    // Instances booting together would all try the same users first; a random order spreads them at once.
    const candidates = shuffle(free).slice(0, share - mine.length);
    if (candidates.length === 0) return;
    const claimed = await this.deps.leases.claim(this.owner, candidates, until, now);
    for (const userId of claimed) this.held.add(userId);
    if (claimed.length > 0) this.deps.logger.log(`Took the EventSub WebSocket sockets of ${claimed.length} user(s).`);
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
