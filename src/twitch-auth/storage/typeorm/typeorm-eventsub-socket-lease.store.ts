import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { EventSubSocketLease, EventSubSocketLeaseStore } from '../eventsub-socket-lease-store.interface.js';
import { TransactionRunner } from './transaction-runner.js';
import { TwitchEventSubSocketLeaseEntity, TwitchEventSubSocketMemberEntity } from './twitch-eventsub-socket-lease.entity.js';

/**
 * User leases in the database, shared by every instance on it. A lease is
 * taken by one conditional UPDATE (after an INSERT that only ever adds a
 * missing row), so of two instances racing for a user only one matches.
 */
@Injectable()
export class TypeOrmEventSubSocketLeaseStore implements EventSubSocketLeaseStore {
  private readonly runner: TransactionRunner;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.runner = new TransactionRunner(dataSource);
  }

  async announce(owner: string, until: number, now: number): Promise<string[]> {
    return this.runner.statement('announce eventsub socket instance', async (m) => {
      await m
        .createQueryBuilder()
        .insert()
        .into(TwitchEventSubSocketMemberEntity)
        .values({ owner, expiresAt: until })
        .orUpdate(['expires_at'], ['owner'])
        .updateEntity(false)
        .execute();
      await m.createQueryBuilder().delete().from(TwitchEventSubSocketMemberEntity).where('expires_at <= :now', { now }).execute();
      const members = await m.getRepository(TwitchEventSubSocketMemberEntity).find({ select: { owner: true } });
      return members.map((member) => member.owner).sort(byCodePoint);
    });
  }

  async claim(owner: string, userIds: readonly string[], until: number, now: number): Promise<string[]> {
    const wanted = [...new Set(userIds)];
    if (wanted.length === 0) return [];
    return this.runner.statement('claim eventsub socket leases', async (m) => {
      const claimed: string[] = [];
      for (const userId of wanted) {
        // Only adds a missing row; an existing one (anyone's) is left to the conditional UPDATE below.
        await m
          .createQueryBuilder()
          .insert()
          .into(TwitchEventSubSocketLeaseEntity)
          .values({ userId, owner, leaseExpiresAt: until })
          .orIgnore()
          .updateEntity(false)
          .execute();
        const result = await m
          .createQueryBuilder()
          .update(TwitchEventSubSocketLeaseEntity)
          .set({ owner, leaseExpiresAt: until })
          .where('user_id = :userId AND (owner = :owner OR lease_expires_at <= :now)', { userId, owner, now })
          .updateEntity(false)
          .execute();
        if ((result.affected ?? 0) === 1) claimed.push(userId);
      }
      return claimed;
    });
  }

  async renew(owner: string, until: number): Promise<string[]> {
    return this.runner.statement('renew eventsub socket leases', async (m) => {
      await m
        .createQueryBuilder()
        .update(TwitchEventSubSocketLeaseEntity)
        .set({ leaseExpiresAt: until })
        .where('owner = :owner', { owner })
        .updateEntity(false)
        .execute();
      const rows = await m.getRepository(TwitchEventSubSocketLeaseEntity).find({ select: { userId: true }, where: { owner } });
      return rows.map((row) => row.userId).sort(byCodePoint);
    });
  }

  async release(owner: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.runner.statement('release eventsub socket leases', async (m) => {
      for (let start = 0; start < userIds.length; start += 500) {
        await m
          .createQueryBuilder()
          .delete()
          .from(TwitchEventSubSocketLeaseEntity)
          .where('owner = :owner AND user_id IN (:...userIds)', { owner, userIds: userIds.slice(start, start + 500) })
          .execute();
      }
    });
  }

  async leave(owner: string): Promise<void> {
    await this.runner.statement('leave eventsub sockets', async (m) => {
      await m.createQueryBuilder().delete().from(TwitchEventSubSocketLeaseEntity).where('owner = :owner', { owner }).execute();
      await m.createQueryBuilder().delete().from(TwitchEventSubSocketMemberEntity).where('owner = :owner', { owner }).execute();
    });
  }

  async list(): Promise<EventSubSocketLease[]> {
    const rows = await this.runner.statement('list eventsub socket leases', (m) => m.getRepository(TwitchEventSubSocketLeaseEntity).find());
    return rows
      .map(({ userId, owner, leaseExpiresAt }) => ({ userId, owner, leaseExpiresAt }))
      .sort((a, b) => byCodePoint(a.userId, b.userId));
  }
}

/** The same order on every database, whatever its collation. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
