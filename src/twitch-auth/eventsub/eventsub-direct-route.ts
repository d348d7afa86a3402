import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
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
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): void;
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
/** A Node HTTP(S) server's `request` event, as `HttpAdapter.getHttpServer()` returns it. */
type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;
interface NodeServerLike {
  listeners(event: 'request'): RequestListener[];
  removeAllListeners(event: 'request'): unknown;
  on(event: 'request', listener: RequestListener): unknown;
}

/**
 * `eventSub.mount: 'direct'`: serves the callback ahead of Nest, in two
 * places that answer alike.
 *
 * - At `init()`, the app's HTTP server itself: a POST to exactly the
 *   callback path is answered before Express or Fastify sees the request
 *   (the way engine.io shares a server with an app); every other request
 *   goes on to the framework untouched. This is what Twitch's requests reach.
 * - A route on the Express or Fastify instance, for requests handed to the
 *   framework without going through that server: Fastify's `inject()`,
 *   serverless handlers. Registered while `NestFactory.create` builds the
 *   module, it comes before the body parsers and routes Nest adds in
 *   `init()`.
 *
 * Either way the headers are checked first (`EventSubReceiver.refuseHead`): a request
 * that could never pass is refused before a byte of its body is read. The
 * body is then read here, once, as the bytes Twitch signed, within
 * `eventSub.bodyTimeoutMs` (408 and the connection closed after that), and
 * Nest's pipeline (parsing, guards, interceptors, filters) is not run. The
 * answer and the dispatch rules are `EventSubReceiver`'s, as for the
 * controller.
 *
 * A testing module (`Test.createTestingModule(...).compile()`) creates its
 * providers before any HTTP adapter exists; the framework route is then
 * registered in `onModuleInit`, behind the body parsers, and reads
 * `req.rawBody` like the controller does (so that app needs `rawBody: true`
 * for injected requests).
 */
@Injectable()
export class EventSubDirectRoute implements OnModuleInit {
  private readonly logger = new Logger('TwitchAuth');
  private registered = false;
  private serverIntercepted = false;
  private readonly bodyTimeoutMs: number;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receiver: EventSubReceiver,
    @Inject(EVENTSUB_DIRECT_PATH) private readonly path: string,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) options: ResolvedTwitchAuthOptions,
  ) {
    this.bodyTimeoutMs = options.eventSub?.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    this.registerOnce();
  }

  /** Registers now if the adapter was not there when the provider was created, and takes the callback's requests off the server. */
  onModuleInit(): void {
    this.registerOnce();
    this.interceptServerRequests();
  }

  /**
   * Puts one `request` listener in front of the framework's: it answers a
   * POST to the callback path and hands every other request to the
   * listeners that were there, in their order. Listeners added later (by
   * the app or another library) still run for every request.
   */
  private interceptServerRequests(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as NodeServerLike | undefined;
    if (this.serverIntercepted || typeof server?.listeners !== 'function') return;
    const framework = server.listeners('request');
    // No framework listener to sit in front of (an app that never serves HTTP itself): the framework route serves.
    if (framework.length === 0) return;
    const path = this.path;
    server.removeAllListeners('request');
    server.on('request', (request, response) => {
      if (request.method === 'POST' && isCallbackUrl(request.url, path)) {
        this.answerStream(request, response);
        return;
      }
      for (const listener of framework) listener.call(server, request, response);
    });
    this.serverIntercepted = true;
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
      this.answerStream(request, response);
    });
  }

  /** Refuses from the headers alone when they say no, else reads the body (up to the limit and the timeout) and answers. */
  private answerStream(request: IncomingMessage, response: ServerResponse): void {
    const refused = this.receiver.refuseHead(request.headers);
    if (refused) {
      // The body, if any, stays unread: closing the connection spares reading it to find the next request.
      response.setHeader('Connection', 'close');
      writeNode(response, refused);
      return;
    }
    readLimitedBody(request, this.bodyTimeoutMs, (rawBody) => {
      if (rawBody === 'too-large' || rawBody === 'timeout') {
        this.receiver.count('malformed');
        // Answered without reading the rest, so the connection cannot be reused.
        response.setHeader('Connection', 'close');
        writeNode(response, rawBody === 'too-large' ? eventSubPayloadTooLarge() : bodyTimedOut(this.bodyTimeoutMs));
        // A sender that stalls may never read the answer either; the socket goes whatever it does.
        request.socket?.destroySoon?.();
      } else {
        void this.answerNode(request.headers, rawBody, response);
      }
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
      // Before Fastify reads the body: a request its headers refuse costs no more than them.
      scope.addHook('onRequest', async (request, reply) => {
        const refused = receiver.refuseHead(request.headers);
        if (!refused) return;
        reply.header('Connection', 'close');
        sendFastify(reply, refused);
        return reply;
      });
      scope.setErrorHandler((error, _request, reply) => {
        receiver.count('malformed');
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

/** True when `url` (path and query, as in the request line) names exactly `path`, with or without a trailing slash. */
function isCallbackUrl(url: string | undefined, path: string): boolean {
  if (url === undefined || !url.startsWith(path)) return false;
  const rest = url.length - path.length;
  if (rest === 0) return true;
  const next = url.charCodeAt(path.length);
  // '?' starts the query; '/' may end the path, if only a query follows it.
  return next === QUESTION_MARK || (next === SLASH && (rest === 1 || url.charCodeAt(path.length + 1) === QUESTION_MARK));
}

const QUESTION_MARK = 0x3f;
const SLASH = 0x2f;

/** Used when the options carry no `eventSub.bodyTimeoutMs` (they always do once resolved). */
const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * Collects the request body; calls back with `'too-large'` as soon as it
 * passes `EVENTSUB_MAX_BODY_BYTES` (a chunked body declares no length, so
 * this is its bound) and `'timeout'` when it has not ended `timeoutMs` after
 * reading started.
 */
function readLimitedBody(request: IncomingMessage, timeoutMs: number, done: (body: Buffer | 'too-large' | 'timeout') => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const stop = () => {
    clearTimeout(timer);
    request.off('data', onData);
    request.off('end', onEnd);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > EVENTSUB_MAX_BODY_BYTES) {
      stop();
      done('too-large');
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => {
    stop();
    done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  };
  const timer = setTimeout(() => {
    stop();
    done('timeout');
  }, timeoutMs);
  request.on('data', onData);
  request.on('end', onEnd);
  // A client that goes away mid-body gets no answer; there is nobody to send it to.
  request.on('error', stop);
  request.on('close', () => clearTimeout(timer));
}

/** The 408 answer to a body that did not arrive in time. */
function bodyTimedOut(timeoutMs: number): EventSubHttpResponse {
  return eventSubErrorResponse(408, 'Request Timeout', `The EventSub message body did not arrive within ${timeoutMs} ms.`);
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
