import { Injectable } from '@nestjs/common';
import type { EventSubSocketLease, EventSubSocketLeaseStore } from './eventsub-socket-lease-store.interface.js';

/**
 * User leases in this process's memory: the default without `storage:
 * 'typeorm'`, where one process holds every user. Several processes need
 * the TypeORM store to share users.
 */
@Injectable()
export class InMemoryEventSubSocketLeaseStore implements EventSubSocketLeaseStore {
  private readonly leases = new Map<string, EventSubSocketLease>();
  private readonly members = new Map<string, number>();

  async announce(owner: string, until: number, now: number): Promise<string[]> {
    this.members.set(owner, until);
    for (const [member, expiresAt] of this.members) if (expiresAt <= now) this.members.delete(member);
    return [...this.members.keys()].sort();
  }

  async claim(owner: string, userIds: readonly string[], until: number, now: number): Promise<string[]> {
    const claimed: string[] = [];
    for (const userId of new Set(userIds)) {
      const lease = this.leases.get(userId);
      if (lease && lease.owner !== owner && lease.leaseExpiresAt > now) continue;
      this.leases.set(userId, { userId, owner, leaseExpiresAt: until });
      claimed.push(userId);
    }
    return claimed;
  }

  async renew(owner: string, until: number): Promise<string[]> {
    const held = [...this.leases.values()].filter((lease) => lease.owner === owner);
    for (const lease of held) lease.leaseExpiresAt = until;
    return held.map((lease) => lease.userId).sort();
  }

  async release(owner: string, userIds: readonly string[]): Promise<void> {
    for (const userId of userIds) if (this.leases.get(userId)?.owner === owner) this.leases.delete(userId);
  }

  async leave(owner: string): Promise<void> {
    this.members.delete(owner);
    for (const [userId, lease] of this.leases) if (lease.owner === owner) this.leases.delete(userId);
  }

  async list(): Promise<EventSubSocketLease[]> {
    return [...this.leases.values()]
      .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
      .map((lease) => ({ ...lease }));
  }
}
