import { Body, Controller, Get, Headers, Logger, Param, Post, Query, Res, UseGuards, type OnModuleInit, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { encodeLocation } from '../oauth/oauth-request.js';
import { DashboardCsrf, DASHBOARD_CSRF_FIELD } from './dashboard-csrf.js';
import { DashboardData } from './dashboard-data.js';
import { flashMessage, isDashboardAction, runDashboardAction } from './dashboard-actions.js';
import { escapeHtml } from './dashboard-html.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';
import { dashboardPage } from './dashboard.page.js';
import { parseFilter, type DashboardTokenRow } from './dashboard-snapshot.js';

/** Headers of every dashboard answer: never cached, never framed, never sniffed, no referrer to the OAuth pages. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Builds the dashboard's controller at `settings.path` (the page) and
 * `settings.path/tokens/:userId/:action` (its POST actions), behind the
 * app's guard. Paths are decorator arguments, hence a factory. Responses go
 * through Nest's HTTP adapter, so it serves Express and Fastify alike.
 */
export function createDashboardController(settings: ResolvedDashboardOptions): Type {
  const base = settings.path === '/' ? '' : settings.path;

  @Controller()
  class TwitchAuthDashboardController implements OnModuleInit {
    private readonly logger = new Logger('TwitchAuth');
    private csrf: DashboardCsrf | null = null;

    constructor(
      private readonly adapterHost: HttpAdapterHost,
      private readonly data: DashboardData,
    ) {}

    /** Says loudly when the page is open to anyone. */
    onModuleInit(): void {
      if (settings.guard === null) {
        this.logger.warn(
          `The Twitch auth dashboard at ${settings.path} is served without authentication (allowUnauthenticated): anyone who reaches it can refresh and revoke tokens. Use it on a local machine only, and pass a guard anywhere else.`,
        );
      }
    }

    /** The page; `?filter=reauth` or `?filter=expiring` narrows the tokens. */
    @Get(settings.path)
    async page(@Res() response: unknown, @Query() query: unknown, @Headers('cookie') cookie: string | undefined): Promise<void> {
      const http = this.adapterHost.httpAdapter;
      const services = this.data.services;
      const snapshot = await this.data.snapshot(parseFilter(query));
      const { token, setCookie } = this.csrfGuard().tokenFor(cookie);
      const nonce = randomBytes(16).toString('base64');
      const oauth = services.oauthRoutes;
      const sets = services.options.oauth.scopeSets;
      const reauthorizeHref = (row: DashboardTokenRow): string | null => {
        if (!oauth) return services.tokens.getAuthorizationUrl({ scopes: row.scopes, forceVerify: true });
        const set = Object.entries(sets).find(([, scopes]) => sameScopes(scopes, row.scopes))?.[0] ?? settings.authorizeSet;
        if (!Object.hasOwn(sets, set)) return null;
        return `${oauth.path}?set=${encodeURIComponent(set)}&force_verify=true&return_to=${encodeURIComponent(settings.path)}`;
      };
      const html = dashboardPage(snapshot, {
        path: settings.path,
        csrfToken: token,
        scriptNonce: nonce,
        notice: settings.notice(),
        flash: flashMessage(query),
        authorizeHref:
          oauth && Object.hasOwn(sets, settings.authorizeSet) ? `${oauth.path}?set=${encodeURIComponent(settings.authorizeSet)}` : null,
        reauthorizeHref,
      });
      if (setCookie) http.appendHeader(response, 'Set-Cookie', setCookie);
      this.headers(response, `'nonce-${nonce}'`);
      http.reply(response, html, 200);
    }

    /** `validate`, `refresh` or `revoke` one user's token; answers 303 back to the page with the outcome. */
    @Post(`${base}/tokens/:userId/:action`)
    async act(
      @Res() response: unknown,
      @Param('userId') userId: string,
      @Param('action') action: string,
      @Body() body: unknown,
      @Headers('cookie') cookie: string | undefined,
      @Headers('sec-fetch-site') fetchSite: string | undefined,
    ): Promise<void> {
      const http = this.adapterHost.httpAdapter;
      if (!isDashboardAction(action))
        return this.refuse(response, 404, 'There is no such action: the page offers validate, refresh and revoke.');
      const field = body && typeof body === 'object' ? (body as Record<string, unknown>)[DASHBOARD_CSRF_FIELD] : undefined;
      // A browser that says the form came from another site is refused even with a valid token.
      if (fetchSite === 'cross-site' || !this.csrfGuard().verify(cookie, field)) {
        return this.refuse(response, 403, 'This form expired or did not come from the dashboard: reload the dashboard and try again.');
      }
      const outcome = await runDashboardAction(this.data.services, this.data.activity, this.logger, userId, action);
      this.headers(response, "'none'");
      http.redirect(response, 303, encodeLocation(`${settings.path}?done=${outcome}&user=${encodeURIComponent(userId)}`));
    }

    private refuse(response: unknown, status: number, message: string): void {
      this.headers(response, "'none'");
      this.adapterHost.httpAdapter.reply(
        response,
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Refused</title></head><body><p>${escapeHtml(message)}</p><p><a href="${escapeHtml(settings.path)}">Back to the dashboard</a></p></body></html>`,
        status,
      );
    }

    private headers(response: unknown, scriptSource: string): void {
      const http = this.adapterHost.httpAdapter;
      for (const [name, value] of Object.entries(COMMON_HEADERS)) http.setHeader(response, name, value);
      http.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
      http.setHeader(
        response,
        'Content-Security-Policy',
        `default-src 'none'; script-src ${scriptSource}; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      );
    }

    private csrfGuard(): DashboardCsrf {
      if (!this.csrf) {
        const options = this.data.services.options;
        this.csrf = new DashboardCsrf(
          options.clientSecret ?? options.encryptionKey,
          settings.path,
          options.redirectUri.startsWith('https:'),
        );
      }
      return this.csrf;
    }
  }

  if (settings.guard) UseGuards(settings.guard)(TwitchAuthDashboardController);
  return TwitchAuthDashboardController;
}

function sameScopes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((scope) => b.includes(scope));
}
