import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import { normalisePath } from '../twitch-auth.option-checks.js';
import { DashboardGuardMissingError } from './dashboard.errors.js';

/** Options of `TwitchAuthDashboardModule.forRoot`. */
export interface TwitchAuthDashboardOptions {
  /** Where the page is mounted; its actions live below it. Default `/twitch-auth`. */
  path?: string;
  /**
   * Who may see the page and use its actions: a guard class (instantiated by
   * Nest in this module, with `imports` for its dependencies) or instance.
   * Required unless `allowUnauthenticated` is true.
   */
  guard?: Type<CanActivate> | CanActivate;
  /**
   * Serves the page to anyone who reaches it, with a warning at startup. For
   * local development only: the page can refresh and revoke every token.
   */
  allowUnauthenticated?: boolean;
  /** Modules the guard class needs (e.g. your auth module). */
  imports?: ModuleMetadata['imports'];
  /**
   * The `oauth.scopeSets` entry the page's "Authorize a Twitch account" link
   * asks for, when the built-in OAuth routes are mounted. Default `default`.
   */
  authorizeSet?: string;
  /**
   * A line of plain text shown at the top of the page (e.g. which
   * environment this is), or a function giving it on each request.
   */
  notice?: string | (() => string | null);
}

/** The options with defaults applied and checked. */
export interface ResolvedDashboardOptions {
  path: string;
  guard: Type<CanActivate> | CanActivate | null;
  allowUnauthenticated: boolean;
  authorizeSet: string;
  notice: () => string | null;
}

/** Checks `forRoot`'s options; a dashboard with no guard and no explicit opt-out stops the app. */
export function resolveDashboardOptions(options: TwitchAuthDashboardOptions = {}): ResolvedDashboardOptions {
  const path = normalisePath(options.path ?? '/twitch-auth', 'TwitchAuthDashboardModule path');
  const guard = options.guard ?? null;
  const allowUnauthenticated = options.allowUnauthenticated === true;
  if (guard === null && !allowUnauthenticated) throw new DashboardGuardMissingError(path);
  const notice = options.notice;
  return {
    path,
    guard,
    allowUnauthenticated,
    authorizeSet: options.authorizeSet ?? 'default',
    notice: typeof notice === 'function' ? notice : () => notice ?? null,
  };
}
