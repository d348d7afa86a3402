import type { Logger } from '@nestjs/common';
import { ReauthorizationRequiredError, TokenNotFoundError } from '../tokens/token.errors.js';
import { describeError } from '../tokens/token-failures.js';
import type { ActivityLog } from './dashboard-activity.js';
import type { DashboardServices } from './dashboard-data.js';

/** The buttons of a token row. */
export const DASHBOARD_ACTIONS = ['validate', 'refresh', 'revoke'] as const;
/** One of `DASHBOARD_ACTIONS`. */
export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number];

/** How an action ended, carried back to the page in `?done=`: a code, never free text another site could inject. */
export type DashboardOutcome = 'validated' | 'refreshed' | 'revoked' | 'not_found' | 'reauth_required' | 'failed';

const MESSAGES: Record<DashboardOutcome, { kind: 'ok' | 'error'; text: (user: string) => string }> = {
  validated: { kind: 'ok', text: (user) => `Twitch confirmed the token of user ${user}.` },
  refreshed: { kind: 'ok', text: (user) => `Refreshed the token of user ${user}.` },
  revoked: { kind: 'ok', text: (user) => `Revoked the token of user ${user} at Twitch and deleted it.` },
  not_found: { kind: 'error', text: (user) => `No token is stored for user ${user}.` },
  reauth_required: { kind: 'error', text: (user) => `User ${user} must authorize again: use the Re-authorize link.` },
  failed: { kind: 'error', text: (user) => `The action on user ${user} failed; the log says why. The stored token is kept.` },
};

/** Whether `name` is an action of the page. */
export function isDashboardAction(name: string): name is DashboardAction {
  return (DASHBOARD_ACTIONS as readonly string[]).includes(name);
}

/** Runs one action through `TokenService` (so through the single-flight refresher) and names its outcome. */
export async function runDashboardAction(
  services: DashboardServices,
  activity: ActivityLog,
  logger: Logger,
  userId: string,
  action: DashboardAction,
): Promise<DashboardOutcome> {
  try {
    if (action === 'validate') {
      await services.tokens.validate(userId);
      return 'validated';
    }
    if (action === 'refresh') {
      await services.tokens.refresh(userId);
      return 'refreshed';
    }
    const info = await services.tokens.getTokenInfo(userId);
    await services.tokens.revoke(userId);
    activity.revoked(userId, info?.login ?? null, 'revoked from the dashboard');
    return 'revoked';
  } catch (error) {
    if (error instanceof TokenNotFoundError) return 'not_found';
    if (error instanceof ReauthorizationRequiredError) return 'reauth_required';
    logger.warn(`Dashboard: ${action} of user ${userId} failed: ${describeError(error)}`);
    return 'failed';
  }
}

/** The flash message of `?done=<outcome>&user=<id>`, or null. */
export function flashMessage(query: unknown): { kind: 'ok' | 'error'; text: string } | null {
  const q = query && typeof query === 'object' ? (query as Record<string, unknown>) : {};
  const done = q.done;
  // Only id-like text: a crafted link cannot put sentences on the page.
  const user = typeof q.user === 'string' && /^[\w.-]{1,64}$/.test(q.user) ? q.user : '?';
  if (typeof done !== 'string' || !Object.hasOwn(MESSAGES, done)) return null;
  const message = MESSAGES[done as DashboardOutcome];
  return { kind: message.kind, text: message.text(user) };
}
