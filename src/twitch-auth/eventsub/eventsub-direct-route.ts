import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import {
  EVENTSUB_MAX_BODY_BYTES,
  EventSubReceiver,
  eventSubErrorResponse,
  eventSubPayloadTooLarge,
  startAfterResponse,
  type EventSubHttpResponse,
} from './eventsub-receiver.js';

/** Injection token of the path `eventSub.mount: 'direct'` serves. */
export const EVENTSUB_DIRECT_PATH = Symbol('EVENTSUB_DIRECT_PATH');

/** The parts of a Fastify instance the direct route uses (Fastify itself is an optional peer). */
interface FastifyLike {
  register(plugin: (scope: FastifyScope) => Promise<void>): unknown;
}
interface FastifyScope {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer'; bodyLimit: number },
    parser: (request: unknown, body: Buffer, done: (error: Error | null, body?: Buffer) => void) => void,
  ): void;
  setErrorHandler(handler: (error: { statusCode?: number; code?: string }, request: unknown, reply: FastifyReplyLike) => void): void;
  post(path: string, handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void>): void;
}
interface FastifyRequestLike {
  headers: IncomingHttpHeaders;
  body?: unknown;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body?: string): FastifyReplyLike;
}
/** The part of an Express application the direct route uses. */
interface ExpressLike {
  post(path: string, handler: (request: IncomingMessage & { rawBody?: unknown }, response: ServerResponse) => void): unknown;
}

/**
 * `eventSub.mount: 'direct'`: serves the callback from the Express or
 * Fastify instance itself. Registered while `NestFactory.create` builds the
 * module, it comes before the body parsers, middleware and routes Nest adds
 * in `init()`: the body is read here, once, as the bytes Twitch signed, and
 * Nest's pipeline (parsing, guards, interceptors, filters) is not run for
 * these requests. The answer and the dispatch rules are `EventSubReceiver`'s,
 * as for the controller.
 *
 * A testing module (`Test.createTestingModule(...).compile()`) creates its
 * providers before any HTTP adapter exists; the route is then registered in
 * `onModuleInit`, behind the body parsers, and reads `req.rawBody` like the
 * controller does (so that app needs `rawBody: true`).
 */
@Injectable()
export class EventSubDirectRoute implements OnModuleInit {
  private readonly logger = new Logger('TwitchAuth');
  private registered = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receiver: EventSubReceiver,
    @Inject(EVENTSUB_DIRECT_PATH) private readonly path: string,
  ) {
    this.registerOnce();
  }

  /** Registers now if the adapter was not there when the provider was created. */
  onModuleInit(): void {
    this.registerOnce();
  }

  private registerOnce(): void {
    const adapter = this.adapterHost?.httpAdapter;
    // No adapter yet (testing module) or none at all (application context): nothing to serve from.
    if (this.registered || !adapter) return;
    const type = adapter.getType();
    if (type === 'express') this.registerOnExpress(adapter.getInstance<ExpressLike>());
    else if (type === 'fastify') this.registerOnFastify(adapter.getInstance<FastifyLike>());
    else {
      throw new TwitchAuthConfigError(
        `eventSub.mount 'direct' works with the Express and Fastify adapters, not "${type}"; use mount 'controller' there.`,
      );
    }
    this.registered = true;
  }

  private registerOnExpress(app: ExpressLike): void {
    app.post(this.path, (request, response) => {
      // Registered late, behind a body parser: it has consumed the stream and kept the bytes (rawBody: true) or not.
      if (Buffer.isBuffer(request.rawBody) || request.readableEnded) {
        void this.answerNode(request.headers, request.rawBody, response);
        return;
      }
      readLimitedBody(request, (rawBody) => {
        if (rawBody === null) {
          // Over the limit: answered without reading the rest, so the connection cannot be reused.
          response.setHeader('Connection', 'close');
          writeNode(response, eventSubPayloadTooLarge());
        } else {
          void this.answerNode(request.headers, rawBody, response);
        }
      });
    });
  }

  private registerOnFastify(fastify: FastifyLike): void {
    const { receiver, path } = this;
    const logger = this.logger;
    fastify.register(async (scope) => {
      // This scope only: every body arrives as bytes, whatever the app's own parsers do elsewhere.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: EVENTSUB_MAX_BODY_BYTES }, (_request, body, done) =>
        done(null, body),
      );
      scope.setErrorHandler((error, _request, reply) => {
        const result =
          error.statusCode === 413
            ? eventSubPayloadTooLarge()
            : eventSubErrorResponse(
                error.statusCode && error.statusCode < 500 ? error.statusCode : 400,
                'Bad Request',
                'Malformed request.',
              );
        sendFastify(reply, result);
      });
      scope.post(path, async (request, reply) => {
        let result: EventSubHttpResponse;
        try {
          result = await receiver.receive({ headers: request.headers, rawBody: request.body });
        } catch (error) {
          result = unexpected(logger, error);
        }
        sendFastify(reply, result);
        startAfterResponse(result);
      });
    });
  }

  private async answerNode(headers: IncomingHttpHeaders, rawBody: unknown, response: ServerResponse): Promise<void> {
    let result: EventSubHttpResponse;
    try {
      result = await this.receiver.receive({ headers, rawBody });
    } catch (error) {
      result = unexpected(this.logger, error);
    }
    writeNode(response, result);
    startAfterResponse(result);
  }
}

/** Collects the request body, or calls back with null as soon as it passes `EVENTSUB_MAX_BODY_BYTES`. */
function readLimitedBody(request: IncomingMessage, done: (body: Buffer | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > EVENTSUB_MAX_BODY_BYTES) {
      request.off('data', onData);
      request.off('end', onEnd);
      done(null);
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  request.on('data', onData);
  request.on('end', onEnd);
  // A client that goes away mid-body gets no answer; there is nobody to send it to.
  request.on('error', () => request.off('end', onEnd));
}

function writeNode(response: ServerResponse, result: EventSubHttpResponse): void {
  if (response.headersSent) return;
  response.statusCode = result.status;
  if (result.contentType) response.setHeader('Content-Type', result.contentType);
  response.end(result.body);
}

function sendFastify(reply: FastifyReplyLike, result: EventSubHttpResponse): void {
  reply.code(result.status);
  if (result.contentType) reply.header('Content-Type', result.contentType);
  reply.send(result.body);
}

function unexpected(logger: Logger, error: unknown): EventSubHttpResponse {
  logger.error(`The EventSub callback failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
  return eventSubErrorResponse(500, 'Internal Server Error', 'The message could not be handled; Twitch will resend it.');
}
