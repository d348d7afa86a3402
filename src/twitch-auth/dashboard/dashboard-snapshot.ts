import type { MaintenanceBacklog, MaintenanceStatus } from '../scheduling/maintenance.types.js';
import type { TwitchAuthConduitHealth, TwitchAuthWebSocketHealth } from '../scheduling/twitch-auth.health.js';
import type { StoredToken } from '../storage/token-repository.interface.js';
import type { ActivityBucket, RecentNotification, RecentRevocation } from './dashboard-activity.js';

/** A token is "expiring" when it expires within this long. */
export const EXPIRING_WITHIN_MS = 60 * 60_000;
/** Rows the page lists at most; a larger store is summarised. */
export const MAX_TOKEN_ROWS = 1000;

/** The badge of a token: what an operator must know first. */
export type DashboardTokenState = 'valid' | 'expiring' | 'expired' | 'failing' | 'reauth_required';

/** `?filter=`: tokens needing re-authorization, or expiring within the hour. */
export type DashboardFilter = 'reauth' | 'expiring' | null;

/** One token as the page shows it: public facts only, never a secret. */
export interface DashboardTokenRow {
  userId: string;
  login: string | null;
  intents: string[];
  scopes: string[];
  state: DashboardTokenState;
  expiresAt: number | null;
  lastValidatedAt: number | null;
  /** When the current access token was obtained: granted or last refreshed. */
  obtainedAt: number;
  failureCount: number;
  retryAt: number;
}

/** Subscriptions counted by transport method and status. */
export interface SubscriptionCount {
  transport: string;
  status: string;
  count: number;
}

/** Everything one rendering of the page shows. */
export interface DashboardSnapshot {
  now: number;
  filter: DashboardFilter;
  tokens: DashboardTokenRow[];
  /** Tokens stored in all (before the filter and the row cap). */
  totalTokens: number;
  maintenance: MaintenanceStatus;
  backlog: MaintenanceBacklog | null;
  health: { status: string; message: string | null };
  /** Null when EventSub is not configured; an error message when listing failed. */
  subscriptions: SubscriptionCount[] | { error: string } | null;
  /** What this instance holds of the shared transports (from the health indicator); absent parts are unused. */
  held: { webSocket?: TwitchAuthWebSocketHealth; conduit?: TwitchAuthConduitHealth };
  notifications: RecentNotification[];
  revocations: RecentRevocation[];
  activity: ActivityBucket[];
}

/** The badge of a stored token at `now`. */
export function tokenState(row: Pick<StoredToken, 'status' | 'failureCount' | 'expiresAt'>, now: number): DashboardTokenState {
  if (row.status === 'reauth_required') return 'reauth_required';
  if (row.failureCount > 0) return 'failing';
  if (row.expiresAt !== null && row.expiresAt <= now) return 'expired';
  if (row.expiresAt !== null && row.expiresAt - now <= EXPIRING_WITHIN_MS) return 'expiring';
  return 'valid';
}

/** Copies the public facts of a stored row; the secrets are never read. */
export function toTokenRow(row: StoredToken, now: number): DashboardTokenRow {
  return {
    userId: row.userId,
    login: row.login,
    intents: [...row.intents],
    scopes: [...row.scopes],
    state: tokenState(row, now),
    expiresAt: row.expiresAt,
    lastValidatedAt: row.lastValidatedAt,
    obtainedAt: row.obtainedAt,
    failureCount: row.failureCount,
    retryAt: row.retryAt,
  };
}

/** Whether a row passes `filter`. Expiring includes the already expired and failing ones close to expiry. */
export function matchesFilter(row: DashboardTokenRow, filter: DashboardFilter, now: number): boolean {
  if (filter === 'reauth') return row.state === 'reauth_required';
  if (filter === 'expiring') return row.state !== 'reauth_required' && row.expiresAt !== null && row.expiresAt - now <= EXPIRING_WITHIN_MS;
  return true;
}

/** Reads `?filter=`; anything else shows every token. */
export function parseFilter(query: unknown): DashboardFilter {
  const value = query && typeof query === 'object' ? (query as Record<string, unknown>).filter : undefined;
  return value === 'reauth' || value === 'expiring' ? value : null;
}
