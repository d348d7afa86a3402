import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ClaimStore } from '../claim-store.interface.js';
import { errorCode } from './token-storage.error.js';
import { TransactionRunner } from './transaction-runner.js';
import { TwitchAuthClaimEntity } from './twitch-auth-claim.entity.js';

/** Expired claims are swept after this many claims by one instance. */
const SWEEP_EVERY = 500;

/**
 * Claims in the `twitch_auth_claims` table, shared by every instance on the
 * database. A claim is one INSERT that either lands (first claim) or hits the
 * primary key; an expired key is re-claimed by a conditional UPDATE.
 */
@Injectable()
export class TypeOrmClaimStore implements ClaimStore {
  private readonly runner: TransactionRunner;
  private claimsSinceSweep = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.runner = new TransactionRunner(dataSource);
  }

  async claim(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    const claimKey = storageKey(namespace, key);
    const now = Date.now();
    if (++this.claimsSinceSweep >= SWEEP_EVERY) {
      this.claimsSinceSweep = 0;
      await this.sweep(now);
    }
    return this.runner.statement('claim', async (manager) => {
      try {
        await manager.createQueryBuilder().insert().into(TwitchAuthClaimEntity).values({ claimKey, expiresAt }).execute();
        return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const reclaimed = await manager
        .createQueryBuilder()
        .update(TwitchAuthClaimEntity)
        .set({ expiresAt })
        .where('claim_key = :claimKey AND expires_at <= :now', { claimKey, now })
        .execute();
      return (reclaimed.affected ?? 0) === 1;
    });
  }

  /** Deletes expired claims (also done every few hundred claims). */
  async sweep(now: number = Date.now()): Promise<void> {
    await this.runner.statement('sweep claims', (manager) =>
      manager.createQueryBuilder().delete().from(TwitchAuthClaimEntity).where('expires_at <= :now', { now }).execute(),
    );
  }
}

/** Namespaced key that fits the column; long keys are hashed. */
function storageKey(namespace: string, key: string): string {
  const raw = `${namespace}:${key}`;
  return raw.length <= 200 ? raw : `${namespace}:sha256:${createHash('sha256').update(key).digest('hex')}`;
}

function isDuplicateKey(error: unknown): boolean {
  const code = errorCode(error);
  if (code === '23505') return true;
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/i.test(error instanceof Error ? error.message : '');
}
