import { Controller, Get, Headers, Inject, Logger, Query, Req, Res, type OnModuleInit, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { CodeExchangeLimiter, codeExchangeBusyReply } from './code-exchange-limiter.js';
import { OAuthFlow, type OAuthReply, type OAuthRoutePaths } from './oauth-flow.js';
import { OAUTH_PAGE_HEADERS } from './oauth.pages.js';

/**
 * Builds the controller of the browser authorization-code flow, mounted at
 * `routes.path` (start: 302 to Twitch) and `routes.callbackPath` (Twitch's
 * redirect back). Paths are decorator arguments, hence a factory. Responses
 * go through Nest's HTTP adapter, so it serves Express and Fastify alike.
 */
export function createOAuthController(routes: OAuthRoutePaths): Type {
  @Controller()
  class OAuthController implements OnModuleInit {
    private readonly logger = new Logger('TwitchAuth');

    constructor(
      private readonly adapterHost: HttpAdapterHost,
      private readonly flow: OAuthFlow,
      private readonly exchanges: CodeExchangeLimiter,
      @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    ) {}

    /** Warns when Twitch would send the browser somewhere this controller does not listen. */
    onModuleInit(): void {
      const redirectPath = new URL(this.options.redirectUri).pathname;
      if (redirectPath !== routes.callbackPath) {
        this.logger.warn(
          `redirectUri ends in ${redirectPath} but the OAuth callback route is ${routes.callbackPath}: Twitch will send users to a path that does not complete the authorization (fine only behind a global prefix or proxy that rewrites it).`,
        );
      }
    }

    /** Starts an authorization: `?set=bot` (or `?scopes=` naming one of `oauth.scopeSets`)`&force_verify=true&return_to=/dashboard`. */
    @Get(routes.path)
    start(@Res() response: unknown, @Query() query: unknown): void {
      this.send(response, this.flow.begin(query));
    }

    /** Twitch's redirect back with `code` and `state` (or `error`). */
    @Get(routes.callbackPath)
    async callback(
      @Req() request: unknown,
      @Res() response: unknown,
      @Query() query: unknown,
      @Headers('cookie') cookie: string | undefined,
    ): Promise<void> {
      // A HEAD (link previews, monitors) must not redeem the state or spend the code.
      if (this.adapterHost.httpAdapter.getRequestMethod(request) === 'HEAD') {
        this.adapterHost.httpAdapter.reply(response, undefined, 204);
        return;
      }
      // Taken before the state is redeemed: a callback refused here can simply be reloaded later.
      const turn = this.exchanges.tryEnter();
      if (turn === null) return this.send(response, codeExchangeBusyReply());
      const release = await turn;
      try {
        this.send(response, await this.flow.complete(query, cookie));
      } finally {
        release();
      }
    }

    private send(response: unknown, reply: OAuthReply): void {
      const http = this.adapterHost.httpAdapter;
      for (const cookie of reply.setCookies) http.appendHeader(response, 'Set-Cookie', cookie);
      for (const [name, value] of Object.entries(reply.headers ?? {})) http.setHeader(response, name, value);
      if (reply.location !== undefined) {
        http.setHeader(response, 'Cache-Control', 'no-store');
        http.setHeader(response, 'Referrer-Policy', 'no-referrer');
        http.redirect(response, reply.status, reply.location);
        return;
      }
      for (const [name, value] of Object.entries(OAUTH_PAGE_HEADERS)) http.setHeader(response, name, value);
      http.reply(response, reply.html ?? '', reply.status);
    }
  }
  return OAuthController;
}
