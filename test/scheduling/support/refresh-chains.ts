import type { StoredToken } from '../../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../../src/twitch-auth/testing/index.js';
import type { RefreshExchange } from './recording-proxy.js';

/** A user's generation-0 token, as seeded. */
export interface SeededToken {
  accessToken: string;
  refreshToken: string;
}

/** Every user's refresh exchanges in order, and what lies on no user's chain. */
export interface RefreshChains {
  chains: Map<string, RefreshExchange[]>;
  /** The last refresh token of each chain: what the database must hold. */
  heads: Map<string, string>;
  /** Exchanges on no chain: a replayed or unknown refresh token. */
  strays: RefreshExchange[];
}

/**
 * Follows presented -> issued from each seeded refresh token. Refresh tokens
 * are single-use, so a chain is linear exactly when no generation was
 * refreshed twice.
 */
export function followChains(seeds: Map<string, SeededToken>, exchanges: readonly RefreshExchange[]): RefreshChains {
  const byPresented = new Map<string, RefreshExchange[]>();
  for (const exchange of exchanges) byPresented.set(exchange.presented, [...(byPresented.get(exchange.presented) ?? []), exchange]);
  const chains = new Map<string, RefreshExchange[]>();
  const heads = new Map<string, string>();
  const onChain = new Set<RefreshExchange>();
  for (const [userId, seed] of seeds) {
    const chain: RefreshExchange[] = [];
    let current = seed.refreshToken;
    for (let next = byPresented.get(current); next?.length === 1 && next[0]!.issued; next = byPresented.get(current)) {
      chain.push(next[0]!);
      onChain.add(next[0]!);
      current = next[0]!.issued!;
    }
    chains.set(userId, chain);
    heads.set(userId, current);
  }
  return { chains, heads, strays: exchanges.filter((e) => !onChain.has(e)) };
}

/** The fewest refreshes any user had at or after `since`. */
export function fewestRefreshesSince(chains: Map<string, RefreshExchange[]>, since: number): number {
  return Math.min(...[...chains.values()].map((chain) => chain.filter((e) => e.at >= since).length));
}

/** Whether the database holds every chain's head, i.e. every answered refresh was stored. */
export function storedMatchesChains(rows: StoredToken[], heads: Map<string, string>): boolean {
  return rows.length === heads.size && rows.every((row) => row.refreshToken === heads.get(row.userId));
}

/**
 * Generations refreshed before they fell due, or only after they expired
 * (with how late, in ms), and the least time any refresh left before expiry.
 */
export function timingViolations(
  fake: FakeTwitch,
  seeds: Map<string, SeededToken>,
  chains: Map<string, RefreshExchange[]>,
  refreshBeforeMs: number,
) {
  const early: string[] = [];
  const late: { userId: string; generation: number; lateMs: number }[] = [];
  let leastSpareMs = Number.POSITIVE_INFINITY;
  for (const [userId, chain] of chains) {
    const generations = [seeds.get(userId)!.accessToken, ...chain.map((e) => e.issuedAccessToken!)];
    chain.forEach((exchange, generation) => {
      const expiresAt = fake.tokenInfo(generations[generation]!)!.expiresAt!;
      if (exchange.at < expiresAt - refreshBeforeMs) early.push(`${userId}#${generation}`);
      if (exchange.at >= expiresAt) late.push({ userId, generation, lateMs: exchange.at - expiresAt });
      leastSpareMs = Math.min(leastSpareMs, expiresAt - exchange.at);
    });
  }
  return { early, late, leastSpareMs };
}

/** Users whose lease is live, by the pid in the holder's instance id (`host:pid:random`). */
export function leasesByPid(rows: StoredToken[]): Map<number, string[]> {
  const leases = new Map<number, string[]>();
  const now = Date.now();
  for (const row of rows) {
    if (!row.leaseOwner || (row.leaseExpiresAt ?? 0) <= now) continue;
    const pid = Number(row.leaseOwner.split(':').at(-2));
    leases.set(pid, [...(leases.get(pid) ?? []), row.userId]);
  }
  return leases;
}
