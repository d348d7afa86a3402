import { Inject, Injectable, Optional } from '@nestjs/common';
import { EventSubConduitShards } from '../eventsub/eventsub-conduit.shards.js';
import { EventSubWebSocketTransport } from '../eventsub/eventsub-websocket.transport.js';
import type { HealthIndicatorResult, HealthIndicatorStatus } from '@nestjs/terminus';
import type { MaintenanceBacklog } from './maintenance.types.js';
import { TwitchAuthMaintenance } from './twitch-auth-maintenance.js';

/** What `TwitchAuthHealthIndicator.isHealthy` reports under its key, next to `status`. */
export interface TwitchAuthHealthDetails {
  /** See `MaintenanceBacklog`; null when counting failed. */
  overdueValidation: number | null;
  overdueRefresh: number | null;
  reauthRequired: number | null;
  /** The cap the counts stop at. */
  countLimit: number;
  /** When this instance's last tick finished (ISO 8601), or null. */
  lastTickAt: string | null;
  /** Why this instance's last tick failed as a whole, or why counting failed, or null. */
  lastTickError: string | null;
  /** Tokens that failed in the last tick (each backed off and retried). */
  lastTickFailures: number;
  /** Whether this instance's timer is overdue to start a tick. */
  stalled: boolean;
  /** The conduit shards this instance holds; absent without `eventSub.conduit`. */
  conduit?: TwitchAuthConduitHealth;
  /** The users whose EventSub WebSocket sockets this instance holds; absent while no WebSocket subscription is stored. */
  webSocket?: TwitchAuthWebSocketHealth;
  /** One sentence on what is wrong; absent when all is well. */
  message?: string;
}

/** The EventSub WebSocket part of `TwitchAuthHealthDetails`. */
export interface TwitchAuthWebSocketHealth {
  /** How many users' sockets this instance holds the lease of. */
  usersHeld: number;
  /** Users with stored WebSocket subscriptions, and live instances sharing them, as of the last round. */
  users: number;
  instances: number;
  /** When the last lease round finished (ISO 8601), or null. */
  lastRoundAt: string | null;
  /** Why the last round failed (leases not renewed), or null. */
  lastError: string | null;
}

/** The conduit part of `TwitchAuthHealthDetails`. */
export interface TwitchAuthConduitHealth {
  conduitId: string | null;
  /** Shard ids this instance holds. */
  shardsHeld: number[];
  /** Held shards not associated with Twitch right now (their socket is being opened again). */
  shardsDisabled: number[];
  /** When this instance last associated a shard (ISO 8601), or null. */
  lastAssociationAt: string | null;
  /** Live instances sharing the conduit and its shard count, as of the last round. */
  instances: number;
  shardCount: number;
  /** Why the last round of leases failed, or null. */
  lastError: string | null;
}

/**
 * A `@nestjs/terminus` indicator for token maintenance:
 * `health.check([() => twitchAuth.isHealthy('twitch-auth')])`.
 *
 * - `down` when tokens are overdue for validation (Twitch's hourly rule) or
 *   refresh, the storage cannot be read, the last tick failed as a whole, or
 *   the timer stalled: things a restart or an operator must fix.
 * - `degraded` (HTTP 200) when users must authorize again or some tokens
 *   failed in the last tick: the service works, some users are affected.
 * - `up` otherwise.
 *
 * It builds terminus's result shape itself, so `@nestjs/terminus` stays an
 * optional peer dependency of this library.
 */
@Injectable()
export class TwitchAuthHealthIndicator {
  constructor(
    private readonly maintenance: TwitchAuthMaintenance,
    @Optional() @Inject(EventSubConduitShards) private readonly conduit: EventSubConduitShards | null = null,
    @Optional() @Inject(EventSubWebSocketTransport) private readonly webSocket: EventSubWebSocketTransport | null = null,
  ) {}

  /** The indicator function for `HealthCheckService.check`. */
  async isHealthy<const Key extends string = 'twitch-auth'>(key: Key = 'twitch-auth' as Key): Promise<HealthIndicatorResult<Key>> {
    const status = this.maintenance.status();
    let backlog: MaintenanceBacklog | null = null;
    let countError: string | null = null;
    try {
      backlog = await this.maintenance.backlog();
    } catch (error) {
      countError = `Counting tokens failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    const details: TwitchAuthHealthDetails = {
      overdueValidation: backlog?.overdueValidation ?? null,
      overdueRefresh: backlog?.overdueRefresh ?? null,
      reauthRequired: backlog?.reauthRequired ?? null,
      countLimit: backlog?.countLimit ?? 0,
      lastTickAt: status.lastTick?.finishedAt.toISOString() ?? null,
      lastTickError: countError ?? status.lastTickError,
      lastTickFailures: status.lastTick?.failed ?? 0,
      stalled: this.maintenance.isStalled(),
    };
    const conduit = this.conduit?.status();
    if (conduit?.enabled) {
      details.conduit = {
        conduitId: conduit.conduitId,
        shardsHeld: conduit.shardsHeld,
        shardsDisabled: conduit.shardsDisabled,
        lastAssociationAt: conduit.lastAssociationAt?.toISOString() ?? null,
        instances: conduit.instances,
        shardCount: conduit.shardCount,
        lastError: conduit.lastError,
      };
    }
    const sockets = this.webSocket?.status();
    if (sockets && (sockets.users > 0 || sockets.usersHeld.length > 0 || sockets.lastError)) {
      details.webSocket = {
        usersHeld: sockets.usersHeld.length,
        users: sockets.users,
        instances: sockets.instances,
        lastRoundAt: sockets.lastRoundAt?.toISOString() ?? null,
        lastError: sockets.lastError,
      };
    }
    const problem = downReason(details);
    if (problem) return result(key, 'down', { ...details, message: problem });
    const impairment = degradedReason(details);
    if (impairment) return result(key, 'degraded', { ...details, message: impairment });
    return result(key, 'up', details);
  }
}

function result<Key extends string>(key: Key, status: HealthIndicatorStatus, details: TwitchAuthHealthDetails): HealthIndicatorResult<Key> {
  const entry: { status: HealthIndicatorStatus } & TwitchAuthHealthDetails = { status, ...details };
  return { [key]: entry } as Record<Key, typeof entry>;
}

function downReason(d: TwitchAuthHealthDetails): string | null {
  if (d.lastTickError) return d.lastTickError;
  if (d.overdueValidation) return `${d.overdueValidation} token(s) are overdue for validation (Twitch requires hourly validation).`;
  if (d.overdueRefresh) return `${d.overdueRefresh} token(s) are overdue for refresh.`;
  if (d.stalled) return 'The maintenance timer has not started a tick for over three periods.';
  return null;
}

function degradedReason(d: TwitchAuthHealthDetails): string | null {
  if (d.reauthRequired) return `${d.reauthRequired} user(s) must authorize the app again.`;
  if (d.lastTickFailures) return `${d.lastTickFailures} token(s) failed in the last tick and are retried with backoff.`;
  if (d.conduit?.lastError) return `Conduit shard leases could not be renewed: ${d.conduit.lastError}`;
  if (d.webSocket?.lastError) return `EventSub WebSocket leases could not be renewed: ${d.webSocket.lastError}`;
  if (d.conduit?.shardsDisabled.length) return `Conduit shard(s) ${d.conduit.shardsDisabled.join(', ')} are not associated with Twitch.`;
  return null;
}
