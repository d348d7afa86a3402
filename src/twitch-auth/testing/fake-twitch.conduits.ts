import { randomUUID } from 'node:crypto';
import type { WireEventSubConduitShard, WireEventSubTransport } from '../twitch/eventsub-wire.types.js';
import type { FakeConduitInfo } from './fake-twitch.eventsub.types.js';

/** Twitch's ceilings: conduits per application and shards per conduit. */
export const MAX_CONDUITS = 5;
export const MAX_SHARDS = 20_000;

/** A shard as FakeTwitch keeps it: Twitch's shape plus a webhook shard's secret. */
export interface FakeConduitShard {
  id: string;
  /** `enabled`, or why not; a shard never associated is `websocket_disconnected` with no session. */
  status: string;
  transport: WireEventSubTransport | null;
  secret?: string;
}

/** A conduit: its shards by index, and where round-robin delivery stands. */
export interface FakeConduit {
  id: string;
  shards: FakeConduitShard[];
  nextShard: number;
}

/**
 * The application's conduits. Pure state: the Helix routes do HTTP and the
 * webhook handshake, the EventSub hub does delivery and failover.
 */
export class FakeConduitStore {
  private readonly conduits = new Map<string, FakeConduit>();

  /** How many conduits exist. */
  get size(): number {
    return this.conduits.size;
  }

  /** A conduit with `shardCount` shards, none associated yet. */
  create(shardCount: number): FakeConduit {
    const conduit: FakeConduit = { id: randomUUID(), shards: [], nextShard: 0 };
    resize(conduit, shardCount);
    this.conduits.set(conduit.id, conduit);
    return conduit;
  }

  /** The conduit, if any. */
  get(id: string): FakeConduit | undefined {
    return this.conduits.get(id);
  }

  /** Every conduit, oldest first. */
  list(): FakeConduit[] {
    return [...this.conduits.values()];
  }

  /** Deletes a conduit. False when unknown. */
  delete(id: string): boolean {
    return this.conduits.delete(id);
  }

  /** Grows (new shards unassociated) or shrinks (highest indexes dropped) a conduit. */
  resize(conduit: FakeConduit, shardCount: number): void {
    resize(conduit, shardCount);
  }

  /** Every shard currently served by this WebSocket session. */
  shardsOfSession(sessionId: string): { conduit: FakeConduit; shard: FakeConduitShard }[] {
    const out: { conduit: FakeConduit; shard: FakeConduitShard }[] = [];
    for (const conduit of this.conduits.values()) {
      for (const shard of conduit.shards) if (shard.transport?.session_id === sessionId) out.push({ conduit, shard });
    }
    return out;
  }

  /** The next enabled shard in round-robin order, skipping `except`; `null` when none is enabled. */
  pickShard(conduit: FakeConduit, except: ReadonlySet<FakeConduitShard> = new Set()): FakeConduitShard | null {
    const count = conduit.shards.length;
    for (let step = 0; step < count; step++) {
      const shard = conduit.shards[(conduit.nextShard + step) % count];
      if (shard.status === 'enabled' && !except.has(shard)) {
        conduit.nextShard = (conduit.nextShard + step + 1) % count;
        return shard;
      }
    }
    return null;
  }
}

/** A shard as `GET /eventsub/conduits/shards` lists it (never the secret). */
export function wireShard(shard: FakeConduitShard): WireEventSubConduitShard {
  return { id: shard.id, status: shard.status, transport: shard.transport ? { ...shard.transport } : { method: 'websocket' } };
}

/** A conduit and its shards, for `FakeTwitch.conduits()`. */
export function conduitInfo(conduit: FakeConduit): FakeConduitInfo {
  return {
    conduitId: conduit.id,
    shardCount: conduit.shards.length,
    shards: conduit.shards.map((shard) => ({
      shardId: shard.id,
      status: shard.status,
      method: (shard.transport?.method as 'websocket' | 'webhook' | undefined) ?? null,
      ...(shard.transport?.session_id === undefined ? {} : { sessionId: shard.transport.session_id }),
      ...(shard.transport?.callback === undefined ? {} : { callback: shard.transport.callback }),
      ...(shard.transport?.connected_at === undefined ? {} : { connectedAt: shard.transport.connected_at }),
      ...(shard.transport?.disconnected_at === undefined ? {} : { disconnectedAt: shard.transport.disconnected_at }),
    })),
  };
}

function resize(conduit: FakeConduit, shardCount: number): void {
  conduit.shards.length = Math.min(conduit.shards.length, shardCount);
  for (let index = conduit.shards.length; index < shardCount; index++) {
    conduit.shards.push({ id: String(index), status: 'websocket_disconnected', transport: null });
  }
  conduit.nextShard = 0;
}
