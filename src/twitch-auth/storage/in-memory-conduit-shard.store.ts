import { Injectable } from '@nestjs/common';
import type { ConduitShardLease, ConduitShardStore } from './conduit-shard-store.interface.js';

/**
 * Shard leases kept in this process. Right for one instance (it then holds
 * every shard up to its cap) and for tests; several processes need the
 * TypeORM store to share a conduit.
 */
@Injectable()
export class InMemoryConduitShardStore implements ConduitShardStore {
  private readonly conduitIds = new Map<string, string>();
  private readonly shards = new Map<string, Map<number, ConduitShardLease>>();
  private readonly members = new Map<string, Map<string, number>>();

  async findConduitId(name: string): Promise<string | null> {
    return this.conduitIds.get(name) ?? null;
  }

  async saveConduitId(name: string, conduitId: string): Promise<void> {
    this.conduitIds.set(name, conduitId);
  }

  async setShardCount(conduitId: string, count: number): Promise<void> {
    const shards = this.shardsOf(conduitId);
    for (const shardId of shards.keys()) if (shardId >= count) shards.delete(shardId);
    for (let shardId = 0; shardId < count; shardId++) {
      if (!shards.has(shardId)) shards.set(shardId, { shardId, owner: null, leaseExpiresAt: null, sessionId: null, associatedAt: null });
    }
  }

  async announce(conduitId: string, owner: string, until: number, now: number): Promise<string[]> {
    let members = this.members.get(conduitId);
    if (!members) this.members.set(conduitId, (members = new Map()));
    members.set(owner, until);
    for (const [member, expiresAt] of members) if (expiresAt <= now) members.delete(member);
    return [...members.keys()].sort();
  }

  async claim(conduitId: string, owner: string, max: number, until: number, now: number): Promise<number[]> {
    const claimed: number[] = [];
    for (const shard of this.sorted(conduitId)) {
      if (claimed.length >= max) break;
      if (shard.owner !== null && (shard.leaseExpiresAt ?? 0) > now) continue;
      Object.assign(shard, { owner, leaseExpiresAt: until, sessionId: null, associatedAt: null });
      claimed.push(shard.shardId);
    }
    return claimed;
  }

  async renew(conduitId: string, owner: string, until: number): Promise<number[]> {
    const held = this.sorted(conduitId).filter((shard) => shard.owner === owner);
    for (const shard of held) shard.leaseExpiresAt = until;
    return held.map((shard) => shard.shardId);
  }

  async release(conduitId: string, owner: string, shardIds: readonly number[]): Promise<void> {
    for (const shardId of shardIds) {
      const shard = this.shardsOf(conduitId).get(shardId);
      if (shard?.owner === owner) Object.assign(shard, { owner: null, leaseExpiresAt: null, sessionId: null });
    }
  }

  async leave(conduitId: string, owner: string): Promise<void> {
    this.members.get(conduitId)?.delete(owner);
    const held = this.sorted(conduitId).filter((shard) => shard.owner === owner);
    await this.release(
      conduitId,
      owner,
      held.map((shard) => shard.shardId),
    );
  }

  async recordAssociation(conduitId: string, shardId: number, owner: string, sessionId: string, at: number): Promise<boolean> {
    const shard = this.shardsOf(conduitId).get(shardId);
    if (shard?.owner !== owner) return false;
    Object.assign(shard, { sessionId, associatedAt: at });
    return true;
  }

  async list(conduitId: string): Promise<ConduitShardLease[]> {
    return this.sorted(conduitId).map((shard) => ({ ...shard }));
  }

  private shardsOf(conduitId: string): Map<number, ConduitShardLease> {
    let shards = this.shards.get(conduitId);
    if (!shards) this.shards.set(conduitId, (shards = new Map()));
    return shards;
  }

  private sorted(conduitId: string): ConduitShardLease[] {
    return [...this.shardsOf(conduitId).values()].sort((a, b) => a.shardId - b.shardId);
  }
}
