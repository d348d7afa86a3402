import { helixFailure, type TwitchHelixClient } from '../twitch/helix.client.js';
import { EventSubConduitError } from './eventsub-conduit.errors.js';

/** A conduit as Twitch lists it. */
export interface ConduitInfo {
  id: string;
  shardCount: number;
}

/** One shard Twitch refused to associate, with its reason. */
export interface ConduitShardRefusal {
  shardId: number;
  message: string;
}

interface WireConduit {
  id: string;
  shard_count: number;
}

/**
 * The conduit calls of Helix, with the app token (`TwitchHelixClient`
 * replaces a rejected app token once and retries transient failures). Wire
 * shapes stay in this file; callers see camelCase.
 */
export class EventSubConduitHelix {
  constructor(private readonly helix: TwitchHelixClient) {}

  /** `GET /eventsub/conduits`: every conduit of the app. */
  async listConduits(): Promise<ConduitInfo[]> {
    const response = await this.helix.requestWithAppToken({ method: 'GET', path: '/eventsub/conduits' });
    if (response.status !== 200) throw helixFailure(response, 'GET /eventsub/conduits');
    return conduitsOf(response.body);
  }

  /** `POST /eventsub/conduits`: a new conduit with `shardCount` shards. */
  async createConduit(shardCount: number): Promise<ConduitInfo> {
    const response = await this.helix.requestWithAppToken({
      method: 'POST',
      path: '/eventsub/conduits',
      json: { shard_count: shardCount },
    });
    const created = response.status === 200 ? conduitsOf(response.body)[0] : undefined;
    if (!created) throw helixFailure(response, 'POST /eventsub/conduits');
    return created;
  }

  /** `PATCH /eventsub/conduits`: changes the shard count (shards past it are dropped by Twitch). */
  async setShardCount(conduitId: string, shardCount: number): Promise<ConduitInfo> {
    const response = await this.helix.requestWithAppToken({
      method: 'PATCH',
      path: '/eventsub/conduits',
      json: { id: conduitId, shard_count: shardCount },
    });
    const updated = response.status === 200 ? conduitsOf(response.body)[0] : undefined;
    if (!updated) throw helixFailure(response, 'PATCH /eventsub/conduits');
    return updated;
  }

  /**
   * `PATCH /eventsub/conduits/shards`: points shards at WebSocket sessions.
   * Returns the shards Twitch refused (its `errors` list); empty when all were associated.
   */
  async associateWebSocketShards(
    conduitId: string,
    shards: readonly { shardId: number; sessionId: string }[],
  ): Promise<ConduitShardRefusal[]> {
    return this.patchShards(
      conduitId,
      shards.map((shard) => ({ id: String(shard.shardId), transport: { method: 'websocket', session_id: shard.sessionId } })),
    );
  }

  private async patchShards(
    conduitId: string,
    shards: { id: string; transport: Record<string, string> }[],
  ): Promise<ConduitShardRefusal[]> {
    const response = await this.helix.requestWithAppToken({
      method: 'PATCH',
      path: '/eventsub/conduits/shards',
      json: { conduit_id: conduitId, shards },
    });
    if (response.status !== 202 && response.status !== 200) throw helixFailure(response, 'PATCH /eventsub/conduits/shards');
    const errors = (response.body as { errors?: { id?: unknown; message?: unknown }[] } | null)?.errors ?? [];
    return errors.map((error) => ({ shardId: Number(error.id), message: String(error.message ?? 'refused') }));
  }

  /**
   * `PATCH /eventsub/conduits/shards`: points shards at a webhook callback
   * (Twitch verifies it with a challenge first). Returns the shards Twitch refused.
   */
  async associateWebhookShards(
    conduitId: string,
    shards: readonly { shardId: number; callback: string; secret: string }[],
  ): Promise<ConduitShardRefusal[]> {
    return this.patchShards(
      conduitId,
      shards.map((shard) => ({
        id: String(shard.shardId),
        transport: { method: 'webhook', callback: shard.callback, secret: shard.secret },
      })),
    );
  }

  /** The number of this app's subscriptions (`total` of `GET /eventsub/subscriptions`), for the `'auto'` shard count. */
  async countSubscriptions(): Promise<number> {
    const page = await this.helix.listEventSubSubscriptions({});
    return typeof page.total === 'number' ? page.total : page.data.length;
  }
}

function conduitsOf(body: unknown): ConduitInfo[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new EventSubConduitError('Twitch answered a conduit request without a conduit list; try again shortly.');
  return (data as WireConduit[]).map((conduit) => ({ id: String(conduit.id), shardCount: Number(conduit.shard_count) }));
}
