import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { ConduitShardStore, type ConduitShardLease } from '../storage/conduit-shard-store.interface.js';
import { EventSubConduitLocator } from './eventsub-conduit.locator.js';
import { MAX_CONDUIT_SHARDS } from './eventsub-conduit.options.js';
import { ConduitShard, type ConduitShardContext, type HeldConduitShard } from './eventsub-conduit.shard.js';
import { ConduitWebhookShard } from './eventsub-conduit.webhook-shard.js';
import type { EventSubConduitStatus } from './eventsub-conduit.types.js';
import { EventSubSocketDelivery } from './eventsub-socket-delivery.js';
import type { EventSubWebSocketDelivery } from './eventsub-websocket.connection.js';
import { EventSubService } from './eventsub.service.js';
import { errorMessage, waitAtMost } from './eventsub-background.js';

/** Subscriptions one shard is sized for by `shardCount: 'auto'`. */
export const SUBSCRIPTIONS_PER_AUTO_SHARD = 1000;
/** Shutdown waits at most this long for a running round and for handing the shards back. */
const SHUTDOWN_WAIT_MS = 5_000;

/**
 * Spreads the conduit's shards over every instance on the database. Every
 * `renewSeconds` each instance announces itself, renews its leases, and
 * compares what it holds with its fair share (shards ÷ live instances,
 * rounded up, at most `maxShardsPerInstance`): it claims free or lapsed
 * shards up to it (an instance that died leaves its shards free once their
 * leases lapse) and hands back what is over it (an instance joined). Each
 * held shard has its own socket (`ConduitShard`). On shutdown every shard is
 * handed back at once, so the others take over at their next round.
 */
@Injectable()
export class EventSubConduitShards implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** This instance's lease owner id (host, pid and a random part, so a restart is a new owner). */
  readonly owner = `${hostname().slice(0, 80)}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly logger = new Logger('TwitchAuth');
  private readonly shards = new Map<number, HeldConduitShard>();
  /** Shards handed back whose socket stays open until the new holder associated them. */
  private readonly draining = new Map<number, { shard: HeldConduitShard; until: number }>();
  private conduitId: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;
  private members = 0;
  private shardCount = 0;
  private lastAssociationAt: number | null = null;
  private lastError: string | null = null;

  /** Built by Nest's injector. @internal */
  constructor(
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Inject(ConduitShardStore) private readonly store: ConduitShardStore,
    private readonly locator: EventSubConduitLocator,
    private readonly delivery: EventSubSocketDelivery,
    private readonly eventSub: EventSubService,
  ) {}

  /** Starts the first round in the background (an unreachable Twitch or database must not stop the app's boot). */
  onApplicationBootstrap(): void {
    if (this.options.eventSubConduit) this.schedule(0);
  }

  /** Hands every shard back at once and stops. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await waitAtMost(this.round ?? Promise.resolve(), SHUTDOWN_WAIT_MS);
    for (const shard of this.shards.values()) shard.close();
    for (const { shard } of this.draining.values()) shard.close();
    this.shards.clear();
    this.draining.clear();
    if (this.conduitId !== null) {
      await waitAtMost(this.store.leave(this.conduitId, this.owner), SHUTDOWN_WAIT_MS).catch((error: unknown) =>
        this.logger.warn(`Could not hand the conduit shards back; they are taken over when their leases lapse: ${errorMessage(error)}`),
      );
    }
  }

  /** What this instance holds, for health checks and dashboards. */
  status(): EventSubConduitStatus {
    const held = [...this.shards.values()].sort((a, b) => a.shardId - b.shardId);
    return {
      enabled: this.options.eventSubConduit !== null,
      conduitId: this.conduitId,
      owner: this.owner,
      shardCount: this.shardCount,
      instances: this.members,
      shardsHeld: held.map((shard) => shard.shardId),
      shardsDisabled: held.filter((shard) => !shard.associated).map((shard) => shard.shardId),
      lastAssociationAt: this.lastAssociationAt === null ? null : new Date(this.lastAssociationAt),
      lastError: this.lastError,
    };
  }

  /**
   * Changes the conduit's shard count at Twitch and in the store; every
   * instance re-balances at its next round (this one at once).
   */
  async setShardCount(count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_CONDUIT_SHARDS) {
      throw new TwitchAuthConfigError(
        `A conduit's shard count must be an integer from 1 to ${MAX_CONDUIT_SHARDS} (Twitch's limit); got ${String(count)}.`,
      );
    }
    const conduitId = await this.locator.conduitId();
    await this.locator.helix.setShardCount(conduitId, count);
    await this.store.setShardCount(conduitId, count);
    await this.runRound();
  }

  /** Runs one round now (after the running one); resolves when it is done. */
  async runRound(): Promise<void> {
    while (this.round) await this.round;
    this.round = this.rebalance().finally(() => (this.round = null));
    await this.round;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runRound()
        .catch(() => undefined)
        .finally(() => this.schedule(this.options.eventSubConduit!.renewSeconds * 1000));
    }, delayMs);
  }

  private async rebalance(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.rebalanceOnce();
      this.lastError = null;
    } catch (error) {
      this.lastError = errorMessage(error);
      this.logger.warn(`Conduit shard round failed; retrying in ${this.options.eventSubConduit!.renewSeconds} s: ${this.lastError}`);
    }
  }

  private async rebalanceOnce(): Promise<void> {
    const options = this.options.eventSubConduit!;
    const now = Date.now();
    const until = now + options.leaseSeconds * 1000;
    const conduitId = this.conduitId ?? (await this.prepare());
    const members = await this.store.announce(conduitId, this.owner, until, now);
    await this.store.renew(conduitId, this.owner, until);
    const rows = await this.store.list(conduitId);
    this.members = members.length;
    this.shardCount = rows.length;
    const mine = rows.filter((row) => row.owner === this.owner).map((row) => row.shardId);
    this.closeDrained(rows, now);
    // Shards taken over by another instance (our lease lapsed) or removed by a smaller shard count.
    for (const [shardId, shard] of this.shards) {
      if (!mine.includes(shardId)) {
        shard.close();
        this.shards.delete(shardId);
      }
    }
    const share = Math.min(options.maxShardsPerInstance, Math.ceil(rows.length / Math.max(1, members.length)));
    if (mine.length > share) {
      const extras = mine.slice(share);
      await this.store.release(conduitId, this.owner, extras);
      for (const shardId of extras) this.drain(shardId, now + options.leaseSeconds * 1000);
      this.logger.log(`Handed back conduit shard(s) ${extras.join(', ')}: ${members.length} instances share ${rows.length} shards.`);
    } else if (mine.length < share && !this.stopped) {
      const claimed = await this.store.claim(conduitId, this.owner, share - mine.length, until, Date.now());
      mine.push(...claimed);
      if (claimed.length > 0) this.logger.log(`Took conduit shard(s) ${claimed.join(', ')}.`);
    }
    for (const shardId of mine.slice(0, share)) {
      if (this.shards.has(shardId) || this.stopped) continue;
      this.draining.get(shardId)?.shard.close();
      this.draining.delete(shardId);
      const context = this.shardContext(conduitId);
      const shard =
        options.transport === 'webhook'
          ? new ConduitWebhookShard(shardId, context, { callback: this.eventSub.callbackUrl, secret: this.options.eventSub!.secret })
          : new ConduitShard(shardId, context);
      this.shards.set(shardId, shard);
      shard.start();
    }
  }

  /**
   * Keeps a handed-back shard's socket open until its new holder has
   * associated it (Twitch then sends it nothing more) or `until`: closing at
   * once would lose what Twitch already sent to it in the meantime.
   */
  private drain(shardId: number, until: number): void {
    const shard = this.shards.get(shardId);
    if (!shard) return;
    this.shards.delete(shardId);
    this.draining.set(shardId, { shard, until });
  }

  private closeDrained(rows: readonly ConduitShardLease[], now: number): void {
    for (const [shardId, { shard, until }] of this.draining) {
      const row = rows.find((candidate) => candidate.shardId === shardId);
      const reassociated = !row || (row.owner !== null && row.owner !== this.owner && row.associatedAt !== null);
      if (reassociated || until <= now) {
        shard.close();
        this.draining.delete(shardId);
      }
    }
  }

  /** First round: find the conduit, size it, and subscribe to its shards' failures. */
  private async prepare(): Promise<string> {
    const options = this.options.eventSubConduit!;
    const conduitId = await this.locator.conduitId();
    const now = Date.now();
    const members = await this.store.announce(conduitId, this.owner, now + options.leaseSeconds * 1000, now);
    const wanted =
      options.shardCount === 'auto'
        ? Math.max(members.length, Math.ceil((await this.locator.helix.countSubscriptions()) / SUBSCRIPTIONS_PER_AUTO_SHARD))
        : options.shardCount;
    const current = (await this.locator.helix.listConduits()).find((conduit) => conduit.id === conduitId);
    if (current && current.shardCount !== wanted) await this.locator.helix.setShardCount(conduitId, wanted);
    if ((await this.store.list(conduitId)).length !== wanted) await this.store.setShardCount(conduitId, wanted);
    await this.eventSub.subscribe('conduit.shard.disabled', '1', { client_id: this.options.clientId }, { transport: 'conduit' });
    this.conduitId = conduitId;
    return conduitId;
  }

  private shardContext(conduitId: string): ConduitShardContext {
    return {
      conduitId,
      owner: this.owner,
      url: this.options.twitch.eventSubWebSocketUrl,
      keepaliveTimeoutSeconds: this.options.eventSubWebSocket.keepaliveTimeoutSeconds,
      maxMessageAgeMs: this.options.eventSubWebSocket.maxMessageAgeSeconds * 1000,
      helix: this.locator.helix,
      store: this.store,
      deliver: (delivery) => void this.receive(delivery),
      associated: (shard) => {
        this.lastAssociationAt = Math.max(this.lastAssociationAt ?? 0, shard.associatedAt ?? 0);
      },
      logger: this.logger,
    };
  }

  private async receive(delivery: EventSubWebSocketDelivery): Promise<void> {
    if (delivery.kind === 'notification' && delivery.body.subscription?.type === 'conduit.shard.disabled') {
      const event = delivery.body.event as { conduit_id?: unknown; shard_id?: unknown };
      const shard = event.conduit_id === this.conduitId ? this.shards.get(Number(event.shard_id)) : undefined;
      shard?.reassociate();
    }
    await this.delivery.deliver(delivery);
  }
}
