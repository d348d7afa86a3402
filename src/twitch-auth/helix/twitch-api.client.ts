import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { TwitchAuthMetrics } from '../metrics/twitch-auth.metrics.js';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import { TwitchAuthError } from '../twitch-auth.errors.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import type { AccessToken } from '../tokens/access-token.js';
import { AppTokenProvider } from '../tokens/app-token.provider.js';
import { TokenService } from '../tokens/token.service.js';
import { MissingScopesError } from '../tokens/token.errors.js';
import { errorMessageOf, sendTwitchRequest } from '../twitch/twitch-http.js';
import { TwitchRateLimitError, TwitchRequestError } from '../twitch/twitch.errors.js';
import { RateLimiter, readRateLimitHeaders } from './helix-rate-limiter.js';
import { toHelixUser, toSentChatMessage, type WireChatMessageAnswer, type WireUserList } from './helix-wire.js';
import { HelixResponseError, HelixUnauthorizedError, type HelixTokenOwner } from './helix.errors.js';
import type {
  GetUsersOptions,
  HelixCallOptions,
  HelixMethod,
  HelixResponse,
  HelixUser,
  SendChatMessageOptions,
  SentChatMessage,
} from './helix.types.js';

/** Tries per call when Twitch cannot be reached, times out or answers 5xx (idempotent calls only). */
const ATTEMPTS = 3;
/** Wait before the first retry; each later one waits four times longer (±50 % jitter). */
const FIRST_RETRY_DELAY_MS = 250;
/** 429s one call may meet before giving up: each waits for the bucket's reset, so more mean something else is spending it. */
const RATE_LIMITED_ATTEMPTS = 5;
const IDEMPOTENT: ReadonlySet<HelixMethod> = new Set(['GET', 'PUT', 'DELETE']);

/**
 * Twitch answers 401 "Missing scope: x" for a valid token without the scope
 * an endpoint needs: refreshing cannot add it, so it is thrown at once.
 */
function missingScopeFailure(answer: HelixResponse, owner: HelixTokenOwner, method: HelixMethod, path: string): void {
  const message = errorMessageOf(answer.body) ?? '';
  const scope = /^missing scope:?\s*(\S+)/i.exec(message)?.[1];
  if (scope === undefined) return;
  if (owner !== 'app') throw new MissingScopesError(owner.userId, [scope]);
  throw new HelixResponseError({ status: 401, twitchMessage: message, method, path });
}

/** A token resolved for one call, and whose it is. */
interface CallToken {
  token: AccessToken;
  owner: HelixTokenOwner;
}

/**
 * Authenticated Helix calls. Each call names whose token it carries (a user,
 * an intent, or the app); scopes are checked before anything is sent; a 401
 * goes through the module's one refresh path (`TokenService.reportUnauthorized`
 * for users, the app-token provider's `replace` for the app) and is retried
 * once. Calls queue per token on the `Ratelimit-*` headers instead of meeting
 * 429s; a 429 that still comes waits for `Ratelimit-Reset` and retries.
 * Network failures, timeouts and 5xx are retried with backoff for idempotent
 * calls only. Tokens never appear in errors or logs.
 */
@Injectable()
export class TwitchApiClient {
  private readonly limiter = new RateLimiter();

  /** Built by Nest's injector. @internal */
  constructor(
    private readonly tokens: TokenService,
    private readonly appTokens: AppTokenProvider,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Optional() private readonly metrics: TwitchAuthMetrics = TwitchAuthMetrics.disabled,
  ) {}

  /** `GET path`; resolves with the parsed body of a 2xx answer, throws a typed error otherwise. */
  get<T = unknown>(path: string, options: HelixCallOptions): Promise<T> {
    return this.call<T>('GET', path, options);
  }

  /** `POST path` (not retried after network failures or 5xx unless `idempotent: true`). */
  post<T = unknown>(path: string, options: HelixCallOptions): Promise<T> {
    return this.call<T>('POST', path, options);
  }

  /** `PATCH path` (not retried after network failures or 5xx unless `idempotent: true`). */
  patch<T = unknown>(path: string, options: HelixCallOptions): Promise<T> {
    return this.call<T>('PATCH', path, options);
  }

  /** `PUT path`. */
  put<T = unknown>(path: string, options: HelixCallOptions): Promise<T> {
    return this.call<T>('PUT', path, options);
  }

  /** `DELETE path`. */
  delete<T = unknown>(path: string, options: HelixCallOptions): Promise<T> {
    return this.call<T>('DELETE', path, options);
  }

  /**
   * Every item of a paginated Helix list, page after page, following
   * `pagination.cursor` as `after`. Stops at the last page, or at a cursor
   * seen before (which would loop forever).
   */
  async *paginate<T = unknown>(path: string, options: HelixCallOptions): AsyncGenerator<T, void, undefined> {
    const seen = new Set<string>();
    let after: string | undefined;
    do {
      const query = after === undefined ? options.query : { ...options.query, after };
      const page = await this.get<{ data?: T[]; pagination?: { cursor?: string } }>(path, { ...options, query });
      yield* page?.data ?? [];
      after = page?.pagination?.cursor || undefined;
      if (after !== undefined && seen.has(after)) return;
      if (after !== undefined) seen.add(after);
    } while (after !== undefined);
  }

  /**
   * Sends one call and returns Twitch's answer whatever its status, except
   * that a 401 is handled (one token replacement, one retry) and transient
   * failures are retried or thrown. For callers that interpret statuses
   * themselves (e.g. 409 = exists).
   */
  async request<T = unknown>(method: HelixMethod, path: string, options: HelixCallOptions): Promise<HelixResponse<T>> {
    const first = await this.resolveToken(options);
    const answer = await this.send(method, path, options, first.token, first.owner);
    if (answer.status !== 401) return answer as HelixResponse<T>;
    missingScopeFailure(answer, first.owner, method, path);
    const replaced = await this.replaceToken(first);
    const retried = await this.send(method, path, options, replaced, first.owner);
    if (retried.status === 401) {
      throw new HelixUnauthorizedError(first.owner, { twitchMessage: errorMessageOf(retried.body), method, path });
    }
    return retried as HelixResponse<T>;
  }

  /** Users by id and login (`GET /users`); with neither, the user the token belongs to. */
  async getUsers(options: GetUsersOptions = {}): Promise<HelixUser[]> {
    const query = { id: options.ids, login: options.logins };
    const list = await this.get<WireUserList>('/users', { auth: options.auth ?? 'app', query });
    return list.data.map(toHelixUser);
  }

  /**
   * `POST /chat/messages` as the sender (`user:write:chat` on their token) or
   * as the app with the bot badge (`user:bot` granted by the sender). The
   * scopes are checked on the stored tokens before anything is sent.
   */
  async sendChatMessage(options: SendChatMessageOptions): Promise<SentChatMessage> {
    const json = {
      broadcaster_id: options.broadcasterId,
      sender_id: options.senderId,
      message: options.message,
      reply_parent_message_id: options.replyParentMessageId,
    };
    if ((options.as ?? 'user') === 'app') {
      // The app token carries no user scopes: Twitch checks the sender's grant, so check it here first.
      await this.tokens.getUserToken(options.senderId, ['user:bot']);
      return toSentChatMessage(await this.post<WireChatMessageAnswer>('/chat/messages', { auth: 'app', json }));
    }
    const answer = await this.post<WireChatMessageAnswer>('/chat/messages', {
      auth: { userId: options.senderId },
      scopes: ['user:write:chat'],
      json,
    });
    return toSentChatMessage(answer);
  }

  private async call<T>(method: HelixMethod, path: string, options: HelixCallOptions): Promise<T> {
    const answer = await this.request<T>(method, path, options);
    if (answer.status < 200 || answer.status >= 300) {
      throw new HelixResponseError({ status: answer.status, twitchMessage: errorMessageOf(answer.body), method, path });
    }
    return answer.body;
  }

  private async resolveToken(options: HelixCallOptions): Promise<CallToken> {
    const { auth } = options;
    const scopes = options.scopes ?? [];
    if (auth === 'app') {
      if (scopes.length > 0) {
        throw new TwitchAuthError('scopes cannot be checked on an app access token: pass auth { userId } or { intent } to require them.');
      }
      return { token: await this.appTokens.get(), owner: 'app' };
    }
    if ('userId' in auth) return { token: await this.tokens.getUserToken(auth.userId, scopes), owner: { userId: auth.userId } };
    const token = await this.tokens.getTokenForIntent(auth.intent, scopes);
    return { token, owner: { userId: token.userId! } };
  }

  /** The one refresh path: never a refresh of our own, so concurrent 401s (here or in other instances) refresh once. */
  private replaceToken({ token, owner }: CallToken): Promise<AccessToken> {
    if (owner === 'app') return this.appTokens.replace(token.accessToken);
    return this.tokens.reportUnauthorized(owner.userId, token.accessToken);
  }

  /** One call through the token's bucket, with the retries its method allows. */
  private async send(method: HelixMethod, path: string, options: HelixCallOptions, token: AccessToken, owner: HelixTokenOwner) {
    const bucket = this.limiter.bucket(owner === 'app' ? 'app' : `user:${owner.userId}`);
    const idempotent = options.idempotent ?? IDEMPOTENT.has(method);
    const url = this.url(path, options.query);
    let failures = 0;
    let rateLimited = 0;
    for (;;) {
      await bucket.acquire(options.points ?? 1);
      const sent = performance.now();
      try {
        const answer = await sendTwitchRequest({
          endpoint: 'helix',
          method,
          url,
          json: options.json,
          headers: { Authorization: `Bearer ${token.accessToken}`, 'Client-Id': this.options.clientId },
          timeoutMs: this.options.twitch.timeoutMs,
        });
        bucket.settle(readRateLimitHeaders(answer.headers));
        this.metrics.helixRequest(answer.status, (performance.now() - sent) / 1000);
        return { status: answer.status, body: answer.body };
      } catch (error) {
        this.metrics.helixRequest(error instanceof TwitchRequestError ? error.status : null, (performance.now() - sent) / 1000);
        if (error instanceof TwitchRateLimitError) {
          // A 429 means Twitch did nothing: safe to send again once the bucket has reset, whatever the method.
          bucket.exhausted(error.retryAfterMs === null ? null : Date.now() + error.retryAfterMs);
          if (++rateLimited >= RATE_LIMITED_ATTEMPTS) throw error;
          continue;
        }
        bucket.settle(null, false);
        if (!(error instanceof TwitchRequestError) || !error.transient || !idempotent || ++failures >= ATTEMPTS) throw error;
        await sleep(FIRST_RETRY_DELAY_MS * 4 ** (failures - 1) * (0.5 + Math.random()));
      }
    }
  }

  private url(path: string, query: HelixCallOptions['query']): string {
    const url = new URL(`${this.options.twitch.helixBaseUrl}${path.startsWith('/') ? path : `/${path}`}`);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value as readonly (string | number)[]) url.searchParams.append(name, String(item));
      else url.searchParams.set(name, String(value));
    }
    return url.toString();
  }
}
