import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ConduitShardLease, ConduitShardStore } from '../conduit-shard-store.interface.js';
import { TransactionRunner } from './transaction-runner.js';
import { TwitchConduitEntity, TwitchConduitMemberEntity, TwitchConduitShardEntity } from './twitch-conduit-shard.entity.js';

/**
 * Shard leases in the database, shared by every instance on it. Each lease
 * change is one conditional UPDATE, so two instances racing for a shard
 * cannot both win: the second one's condition no longer holds.
 */
@Injectable()
export class TypeOrmConduitShardStore implements ConduitShardStore {
  private readonly runner: TransactionRunner;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.runner = new TransactionRunner(dataSource);
  }

  async findConduitId(name: string): Promise<string | null> {
    const row = await this.runner.statement('read conduit id', (m) => m.getRepository(TwitchConduitEntity).findOneBy({ name }));
    return row?.conduitId ?? null;
  }

  async saveConduitId(name: string, conduitId: string): Promise<void> {
    await this.runner.statement('save conduit id', (m) =>
      m.createQueryBuilder().insert().into(TwitchConduitEntity).values({ name, conduitId }).orUpdate(['conduit_id'], ['name']).execute(),
    );
  }

  async setShardCount(conduitId: string, count: number): Promise<void> {
    await this.runner.transaction('set shard count', async (m) => {
      await m
        .createQueryBuilder()
        .delete()
        .from(TwitchConduitShardEntity)
        .where('conduit_id = :conduitId AND shard_id >= :count', { conduitId, count })
        .execute();
      const rows = await m.getRepository(TwitchConduitShardEntity).find({ select: { shardId: true }, where: { conduitId } });
      const present = new Set(rows.map((row) => row.shardId));
      const missing = Array.from({ length: count }, (_, shardId) => shardId).filter((shardId) => !present.has(shardId));
      for (let start = 0; start < missing.length; start += 200) {
        const values = missing.slice(start, start + 200).map((shardId) => ({ conduitId, shardId, owner: null }));
        await m.createQueryBuilder().insert().into(TwitchConduitShardEntity).values(values).orIgnore().updateEntity(false).execute();
      }
    });
  }

  async announce(conduitId: string, owner: string, until: number, now: number): Promise<string[]> {
    return this.runner.statement('announce instance', async (m) => {
      await m
        .createQueryBuilder()
        .insert()
        .into(TwitchConduitMemberEntity)
        .values({ conduitId, owner, expiresAt: until })
        .orUpdate(['expires_at'], ['conduit_id', 'owner'])
        .updateEntity(false)
        .execute();
      await m
        .createQueryBuilder()
        .delete()
        .from(TwitchConduitMemberEntity)
        .where('conduit_id = :conduitId AND expires_at <= :now', { conduitId, now })
        .execute();
      const members = await m.getRepository(TwitchConduitMemberEntity).find({ where: { conduitId }, order: { owner: 'ASC' } });
      return members.map((member) => member.owner);
    });
  }

  async claim(conduitId: string, owner: string, max: number, until: number, now: number): Promise<number[]> {
    if (max <= 0) return [];
    return this.runner.statement('claim shards', async (m) => {
      const candidates = await m
        .getRepository(TwitchConduitShardEntity)
        .createQueryBuilder('s')
        .select('s.shardId')
        .where('s.conduit_id = :conduitId AND (s.owner IS NULL OR s.lease_expires_at <= :now)', { conduitId, now })
        .orderBy('s.shard_id', 'ASC')
        .getMany();
      const claimed: number[] = [];
      for (const { shardId } of candidates) {
        if (claimed.length >= max) break;
        // Conditional on the shard still being free: of two instances racing for it, one UPDATE matches.
        const result = await m
          .createQueryBuilder()
          .update(TwitchConduitShardEntity)
          .set({ owner, leaseExpiresAt: until, sessionId: null, associatedAt: null })
          .where('conduit_id = :conduitId AND shard_id = :shardId AND (owner IS NULL OR lease_expires_at <= :now)', {
            conduitId,
            shardId,
            now,
          })
          .updateEntity(false)
          .execute();
        if ((result.affected ?? 0) === 1) claimed.push(shardId);
      }
      return claimed;
    });
  }

  async renew(conduitId: string, owner: string, until: number): Promise<number[]> {
    return this.runner.statement('renew shard leases', async (m) => {
      await m
        .createQueryBuilder()
        .update(TwitchConduitShardEntity)
        .set({ leaseExpiresAt: until })
        .where('conduit_id = :conduitId AND owner = :owner', { conduitId, owner })
        .updateEntity(false)
        .execute();
      const rows = await m.getRepository(TwitchConduitShardEntity).find({ where: { conduitId, owner }, order: { shardId: 'ASC' } });
      return rows.map((row) => row.shardId);
    });
  }

  async release(conduitId: string, owner: string, shardIds: readonly number[]): Promise<void> {
    if (shardIds.length === 0) return;
    await this.runner.statement('release shards', (m) =>
      m
        .createQueryBuilder()
        .update(TwitchConduitShardEntity)
        .set({ owner: null, leaseExpiresAt: null, sessionId: null })
        .where('conduit_id = :conduitId AND owner = :owner AND shard_id IN (:...shardIds)', { conduitId, owner, shardIds: [...shardIds] })
        .updateEntity(false)
        .execute(),
    );
  }

  async leave(conduitId: string, owner: string): Promise<void> {
    await this.runner.statement('leave conduit', async (m) => {
      await m
        .createQueryBuilder()
        .update(TwitchConduitShardEntity)
        .set({ owner: null, leaseExpiresAt: null, sessionId: null })
        .where('conduit_id = :conduitId AND owner = :owner', { conduitId, owner })
        .updateEntity(false)
        .execute();
      await m
        .createQueryBuilder()
        .delete()
        .from(TwitchConduitMemberEntity)
        .where('conduit_id = :conduitId AND owner = :owner', { conduitId, owner })
        .execute();
    });
  }

  async recordAssociation(conduitId: string, shardId: number, owner: string, sessionId: string, at: number): Promise<boolean> {
    const result = await this.runner.statement('record shard association', (m) =>
      m
        .createQueryBuilder()
        .update(TwitchConduitShardEntity)
        .set({ sessionId, associatedAt: at })
        .where('conduit_id = :conduitId AND shard_id = :shardId AND owner = :owner', { conduitId, shardId, owner })
        .updateEntity(false)
        .execute(),
    );
    return (result.affected ?? 0) === 1;
  }

  async list(conduitId: string): Promise<ConduitShardLease[]> {
    const rows = await this.runner.statement('list shards', (m) =>
      m.getRepository(TwitchConduitShardEntity).find({ where: { conduitId }, order: { shardId: 'ASC' } }),
    );
    return rows.map(({ shardId, owner, leaseExpiresAt, sessionId, associatedAt }) => ({
      shardId,
      owner,
      leaseExpiresAt,
      sessionId,
      associatedAt,
    }));
  }
}
