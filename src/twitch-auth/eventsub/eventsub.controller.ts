import { Controller, Post, Req, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import type { TwitchAuthRoutes } from '../twitch-auth.module-parts.js';
import { EventSubReceiver, startAfterResponse, type EventSubHttpRequest } from './eventsub-receiver.js';

/**
 * Builds the controller of Twitch's webhook callback at
 * `routes.eventSub.path`. Paths are structural in Nest (decorators), hence a
 * factory. It answers through the HTTP adapter, so Express and Fastify behave
 * alike, and starts dispatch only once the answer is written: Twitch wants a
 * 2xx within seconds, whatever the listeners do.
 */
export function createEventSubController(routes: TwitchAuthRoutes): Type {
  const path = routes.eventSub?.path;
  if (!path) throw new TwitchAuthConfigError('createEventSubController needs routes.eventSub.');

  @Controller()
  class EventSubController {
    constructor(
      private readonly receiver: EventSubReceiver,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    /** Twitch's POST: a challenge, a notification or a revocation. */
    @Post(path)
    async receive(@Req() request: EventSubHttpRequest, @Res() response: unknown): Promise<void> {
      const result = await this.receiver.receive({ headers: request.headers, rawBody: request.rawBody });
      const http = this.adapterHost.httpAdapter;
      if (result.contentType) http.setHeader(response, 'Content-Type', result.contentType);
      http.reply(response, result.body, result.status);
      startAfterResponse(result);
    }
  }
  return EventSubController;
}
