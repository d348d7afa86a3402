import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import { TwitchAuthEventPublisher } from '../twitch-auth.events.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { EventSubService } from '../eventsub/eventsub.service.js';
import { OAUTH_ROUTES, type OAuthRoutePaths } from '../oauth/oauth-flow.js';
import { TwitchAuthHealthIndicator, type TwitchAuthHealthDetails } from '../scheduling/twitch-auth.health.js';
import { TwitchAuthMaintenance } from '../scheduling/twitch-auth-maintenance.js';
import { TokenRepository } from '../storage/token-repository.interface.js';
import { TokenService } from '../tokens/token.service.js';
import { ActivityLog } from './dashboard-activity.js';
import { DashboardWithoutTwitchAuthError } from './dashboard.errors.js';
import {
  MAX_TOKEN_ROWS,
  matchesFilter,
  toTokenRow,
  type DashboardFilter,
  type DashboardSnapshot,
  type SubscriptionCount,
} from './dashboard-snapshot.js';

/** Subscriptions are listed through Helix: at most once per this long, however often the page is loaded. */
const SUBSCRIPTIONS_CACHE_MS = 30_000;

/** The parts of `TwitchAuthModule` the dashboard reads and acts through. */
export interface DashboardServices {
  tokens: TokenService;
  repository: TokenRepository;
  maintenance: TwitchAuthMaintenance;
  health: TwitchAuthHealthIndicator;
  eventSub: EventSubService;
  options: ResolvedTwitchAuthOptions;
  /** Null when the built-in OAuth routes are off. */
  oauthRoutes: OAuthRoutePaths | null;
}

/**
 * Finds `TwitchAuthModule`'s services wherever the app imported it (the
 * dashboard is a sibling module, and `TwitchAuthModule` need not be global),
 * records activity from its events, and assembles what the page shows.
 */
@Injectable()
export class DashboardData implements OnModuleInit, OnModuleDestroy {
  /** Activity of this process since it started (or the last 24 hours). */
  readonly activity = new ActivityLog();
  private found: DashboardServices | null = null;
  private stopListening: (() => void) | null = null;
  private subscriptions: { at: number; value: Promise<SubscriptionCount[] | { error: string }> } | null = null;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** Resolves the services (failing startup without `TwitchAuthModule`) and starts counting events. */
  onModuleInit(): void {
    const find = <T>(token: unknown): T => this.moduleRef.get(token as never, { strict: false }) as T;
    try {
      this.found = {
        tokens: find(TokenService),
        repository: find(TokenRepository),
        maintenance: find(TwitchAuthMaintenance),
        health: find(TwitchAuthHealthIndicator),
        eventSub: find(EventSubService),
        options: find(TWITCH_AUTH_RESOLVED_OPTIONS),
        oauthRoutes: null,
      };
    } catch (error) {
      throw new DashboardWithoutTwitchAuthError({ cause: error });
    }
    try {
      this.found.oauthRoutes = find<OAuthRoutePaths>(OAUTH_ROUTES);
    } catch {
      // The OAuth routes are off: re-authorization links use the plain authorize URL.
    }
    const publisher = find<TwitchAuthEventPublisher>(TwitchAuthEventPublisher);
    this.stopListening = this.activity.listen((name, listener) => publisher.subscribe(name, listener));
  }

  /** Stops counting events. */
  onModuleDestroy(): void {
    this.stopListening?.();
    this.stopListening = null;
  }

  /** The services; only after startup. */
  get services(): DashboardServices {
    if (!this.found) throw new DashboardWithoutTwitchAuthError();
    return this.found;
  }

  /** What the page shows now, with `filter` applied to the tokens. */
  async snapshot(filter: DashboardFilter): Promise<DashboardSnapshot> {
    const { repository, maintenance, health } = this.services;
    const now = Date.now();
    const [rows, backlog, healthResult, subscriptions] = await Promise.all([
      repository.list(),
      maintenance.backlog().catch(() => null),
      health.isHealthy('twitch-auth').catch((error: unknown) => ({ 'twitch-auth': { status: 'down', message: describe(error) } })),
      this.subscriptionCounts(now),
    ]);
    const tokens = rows.map((row) => toTokenRow(row, now)).filter((row) => matchesFilter(row, filter, now));
    const entry = healthResult['twitch-auth'] as Partial<TwitchAuthHealthDetails> & { status: string };
    return {
      now,
      filter,
      tokens: tokens.slice(0, MAX_TOKEN_ROWS),
      totalTokens: rows.length,
      maintenance: maintenance.status(),
      backlog,
      health: { status: entry.status, message: entry.message ?? null },
      subscriptions,
      held: { webSocket: entry.webSocket, conduit: entry.conduit },
      notifications: this.activity.recentNotifications(),
      revocations: this.activity.recentRevocations(),
      activity: this.activity.buckets(),
    };
  }

  /** Subscriptions by transport and status, listed through Helix at most every 30 s; null when EventSub is not configured. */
  private subscriptionCounts(now: number): Promise<SubscriptionCount[] | { error: string } | null> {
    if (!this.services.options.eventSub) return Promise.resolve(null);
    if (this.subscriptions && now - this.subscriptions.at < SUBSCRIPTIONS_CACHE_MS) return this.subscriptions.value;
    const value = this.services.eventSub.list().then(countSubscriptions, (error: unknown) => ({ error: describe(error) }));
    this.subscriptions = { at: now, value };
    return value;
  }
}

function countSubscriptions(list: { transport: { method: string }; status: string }[]): SubscriptionCount[] {
  const counts = new Map<string, SubscriptionCount>();
  for (const subscription of list) {
    const key = `${subscription.transport.method}\u0000${subscription.status}`;
    const entry = counts.get(key) ?? { transport: subscription.transport.method, status: subscription.status, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => a.transport.localeCompare(b.transport) || a.status.localeCompare(b.status));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
