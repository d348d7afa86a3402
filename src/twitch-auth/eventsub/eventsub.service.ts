import { Inject, Injectable, Logger } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchAuthError } from '../twitch-auth.errors.js';
import { TwitchHelixClient } from '../twitch/helix.client.js';
import { EventSubConduitLocator } from './eventsub-conduit.locator.js';
import { EventSubWebSocketTransport } from './eventsub-websocket.transport.js';
import { toEventSubSubscription } from './eventsub.converters.js';
import { EventSubNotConfiguredError, EventSubPublicUrlMissingError, EventSubSubscriptionError } from './eventsub.errors.js';
import type {
  EventSubCondition,
  EventSubEnsureResult,
  EventSubListFilter,
  EventSubSubscription,
  EventSubSubscriptionSpec,
} from './eventsub.types.js';

/** Options of `EventSubService.subscribe`. */
export interface EventSubSubscribeOptions {
  /** Default `'webhook'`; `'conduit'` needs `eventSub.conduit`. */
  transport?: 'webhook' | 'websocket' | 'conduit';
  /** WebSocket: whose token and sockets to use (the user the condition names). */
  userId?: string;
  /** WebSocket: scopes to check on the user's token first (default: the type's known scopes). */
  scopes?: string[];
}

/** Injection token of the path the callback controller is mounted at (`null` when none is). */
export const EVENTSUB_MOUNTED_PATH = Symbol('EVENTSUB_MOUNTED_PATH');

/** Statuses in which a subscription works or is about to: `ensure` leaves these alone. */
const LIVE_STATUSES: ReadonlySet<string> = new Set(['enabled', 'webhook_callback_verification_pending']);

/**
 * Manages this app's EventSub subscriptions. Webhooks (the default) go
 * through Helix with the app access token, to `eventSub.publicUrl` + the
 * callback path, signed with `eventSub.secret`. WebSocket subscriptions
 * (`transport: 'websocket'`, `userId`) use the user's token and sockets this
 * module opens, and are stored so a restart creates them again. Both
 * deliver the same `twitch.eventsub.*` events.
 */
@Injectable()
export class EventSubService {
  private readonly logger = new Logger('TwitchAuth');

  /** Built by Nest's injector. @internal */
  constructor(
    private readonly helix: TwitchHelixClient,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Inject(EVENTSUB_MOUNTED_PATH) private readonly mountedPath: string | null,
    private readonly webSocket: EventSubWebSocketTransport,
    private readonly conduit: EventSubConduitLocator,
  ) {}

  /** The callback URL Twitch is given: `publicUrl` + the mounted callback path. */
  get callbackUrl(): string {
    const eventSub = this.options.eventSub;
    if (!eventSub) throw new EventSubNotConfiguredError('Subscribing to EventSub');
    if (!eventSub.publicUrl) throw new EventSubPublicUrlMissingError();
    return eventSub.publicUrl + (this.mountedPath ?? eventSub.path);
  }

  /**
   * Creates a subscription. A webhook one (the default) is then verified by
   * Twitch; when Twitch answers 409 (it exists already), the existing one is
   * returned. `{ transport: 'websocket', userId }` creates it on one of the
   * user's sockets (opened on demand) with the user's token, after checking
   * its scopes (`MissingScopesError`) and Twitch's limits
   * (`EventSubWebSocketLimitError`), and stores it so a restart creates it
   * again; when another instance holds the user's sockets, it is only
   * stored, that instance creates it within `eventSub.webSocket.renewSeconds`,
   * and the answer has status `EVENTSUB_WEBSOCKET_PENDING_STATUS` (its id, the
   * stored key, works with `unsubscribe`).
   * `condition` uses Twitch's field names, e.g. `{ broadcaster_user_id: '123' }`.
   * `{ transport: 'conduit' }` creates it on the app's conduit
   * (`eventSub.conduit`, found or created on first use) with the app token.
   */
  async subscribe(
    type: string,
    version: string,
    condition: EventSubCondition,
    options: EventSubSubscribeOptions = {},
  ): Promise<EventSubSubscription> {
    if (options.transport === 'websocket') {
      const userId = requireUserId(options.userId);
      return (await this.webSocket.subscribe(userId, { type, version, condition, scopes: options.scopes })).subscription;
    }
    return (await this.create({ type, version, condition }, options.transport === 'conduit' ? 'conduit' : 'webhook')).subscription;
  }

  /**
   * Every subscription of this app (all pages), optionally filtered by one
   * of status, type or user id. With `transport: 'websocket'`: the
   * WebSocket subscriptions this instance carries (of `userId` when given).
   */
  async list(filter: EventSubListFilter = {}): Promise<EventSubSubscription[]> {
    if (filter.transport === 'websocket') {
      return this.webSocket
        .list(filter.userId)
        .filter((s) => (filter.type ?? s.type) === s.type && (filter.status ?? s.status) === s.status);
    }
    const subscriptions: EventSubSubscription[] = [];
    const seenCursors = new Set<string>();
    let after: string | undefined;
    do {
      const page = await this.helix.listEventSubSubscriptions({ status: filter.status, type: filter.type, user_id: filter.userId, after });
      subscriptions.push(...page.data.map(toEventSubSubscription));
      after = page.pagination?.cursor || undefined;
      // A cursor seen twice would loop forever: stop rather than trust it.
      if (after !== undefined && seenCursors.has(after)) break;
      if (after !== undefined) seenCursors.add(after);
    } while (after !== undefined);
    return subscriptions;
  }

  /**
   * Deletes a subscription; false when Twitch did not know the id. A
   * WebSocket subscription is also removed from storage (a restart will
   * not create it again), and its socket closed when nothing else is on it;
   * when another instance holds the user's sockets, that instance deletes it
   * at Twitch within `eventSub.webSocket.renewSeconds`.
   */
  async unsubscribe(id: string): Promise<boolean> {
    if (await this.webSocket.unsubscribe(id)) return true;
    return this.helix.deleteEventSubSubscription(id);
  }

  /**
   * Makes sure each spec has a live subscription to this callback, and is
   * safe to call at every start: existing enabled or pending ones are left
   * alone, dead ones (failed verification, revoked) are deleted and created
   * again, missing ones are created, and a 409 counts as existing.
   */
  async ensure(specs: readonly EventSubSubscriptionSpec[]): Promise<EventSubEnsureResult> {
    const result: EventSubEnsureResult = { created: [], existing: [], removed: [] };
    const webhooks: EventSubSubscriptionSpec[] = [];
    for (const spec of specs) {
      if (spec.transport?.method !== 'websocket') {
        webhooks.push(spec);
        continue;
      }
      const outcome = await this.webSocket.subscribe(requireUserId(spec.transport.userId), spec);
      (outcome.created ? result.created : result.existing).push(outcome.subscription);
    }
    if (webhooks.length === 0) return result;
    const callback = this.callbackUrl;
    const current = await this.list();
    for (const spec of webhooks) {
      const matches = current.filter((subscription) => sameSubscription(subscription, spec, callback));
      const live = matches.find((subscription) => LIVE_STATUSES.has(subscription.status));
      if (live) {
        result.existing.push(live);
        continue;
      }
      for (const dead of matches) {
        await this.unsubscribe(dead.id);
        result.removed.push(dead);
      }
      const outcome = await this.create(spec);
      (outcome.created ? result.created : result.existing).push(outcome.subscription);
    }
    return result;
  }

  private async create(
    spec: EventSubSubscriptionSpec,
    method: 'webhook' | 'conduit' = 'webhook',
  ): Promise<{ subscription: EventSubSubscription; created: boolean }> {
    const conduitId = method === 'conduit' ? await this.conduit.conduitId() : null;
    const callback = conduitId === null ? this.callbackUrl : null;
    const outcome = await this.helix.createEventSubSubscription({
      type: spec.type,
      version: spec.version,
      condition: spec.condition,
      transport:
        conduitId !== null
          ? { method: 'conduit', conduit_id: conduitId }
          : { method: 'webhook', callback: callback!, secret: this.options.eventSub!.secret },
    });
    if (outcome.created) {
      const subscription = outcome.list.data[0];
      if (!subscription) throw new EventSubSubscriptionError(`Twitch accepted the ${spec.type} subscription but returned no subscription.`);
      this.logger.log(
        `Subscribed to EventSub ${spec.type} v${spec.version} (${subscription.id})${callback === null ? ' on the conduit' : '; Twitch now verifies the callback'}.`,
      );
      return { subscription: toEventSubSubscription(subscription), created: true };
    }
    const existing = await this.list({ type: spec.type });
    const found =
      existing.find((subscription) => sameSubscription(subscription, spec, callback)) ??
      existing.find((subscription) => sameSubscription(subscription, spec, null));
    if (!found) {
      throw new EventSubSubscriptionError(
        `Twitch says a ${spec.type} v${spec.version} subscription with this condition already exists (409), but this app's list does not show it; try again shortly.`,
      );
    }
    return { subscription: found, created: false };
  }
}

function requireUserId(userId: string | undefined): string {
  if (typeof userId === 'string' && userId !== '') return userId;
  throw new TwitchAuthError(
    "A WebSocket subscription needs the user whose token and sockets it uses: pass { transport: 'websocket', userId } " +
      '(the user the condition names, e.g. the broadcaster or moderator).',
  );
}

/**
 * Same type, version, condition and (when given) callback. Twitch lists
 * conditions with every field, unset ones as `""`, so absent and empty match.
 */
function sameSubscription(subscription: EventSubSubscription, spec: EventSubSubscriptionSpec, callback: string | null): boolean {
  if (subscription.type !== spec.type || subscription.version !== spec.version) return false;
  if (callback !== null && subscription.transport.callback !== callback) return false;
  const keys = new Set([...Object.keys(subscription.condition), ...Object.keys(spec.condition)]);
  for (const key of keys) if ((subscription.condition[key] ?? '') !== (spec.condition[key] ?? '')) return false;
  return true;
}
