import type { WireEventSubSubscription } from '../twitch/eventsub-wire.types.js';
import { toEventSubSubscription } from './eventsub.converters.js';
import type { EventSubSubscription } from './eventsub.types.js';

/** Subscriptions remembered at most; past it the cache starts over (a conduit may carry thousands). */
export const SUBSCRIPTION_CACHE_LIMIT = 10_000;

interface Entry {
  wire: WireEventSubSubscription;
  converted: EventSubSubscription;
}

/**
 * Every message of a subscription repeats the subscription, so its converted
 * form (four objects, a parsed date) is made once and shared by the payloads
 * of later messages, as long as Twitch sends it unchanged: every field is
 * compared with the copy it was made from, so a changed status, cost,
 * condition or session is converted again. Shared objects are frozen: a
 * listener that changed one would change it for every later message.
 */
export class EventSubSubscriptionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limit: number = SUBSCRIPTION_CACHE_LIMIT) {}

  /** The converted subscription, the cached one when `wire` matches what it was made from. */
  convert(wire: WireEventSubSubscription): EventSubSubscription {
    const id = wire.id;
    if (typeof id !== 'string') return toEventSubSubscription(wire);
    const entry = this.entries.get(id);
    if (entry !== undefined && sameSubscription(entry.wire, wire)) return entry.converted;
    const converted = toEventSubSubscription(wire);
    Object.freeze(converted.condition);
    Object.freeze(converted.transport);
    Object.freeze(converted);
    if (entry === undefined && this.entries.size >= this.limit) this.entries.clear();
    // A copy of what was compared: the caller's body object is not kept alive nor trusted to stay unchanged.
    this.entries.set(id, { wire: copyWire(wire), converted });
    return converted;
  }
}

function sameSubscription(a: WireEventSubSubscription, b: WireEventSubSubscription): boolean {
  if (
    a.status !== b.status ||
    a.type !== b.type ||
    a.version !== b.version ||
    a.cost !== b.cost ||
    a.created_at !== b.created_at ||
    !sameFlat(a.transport, b.transport) ||
    !sameFlat(a.condition, b.condition)
  ) {
    return false;
  }
  return true;
}

/** Same own keys with identical primitive values; anything nested counts as different. */
function sameFlat(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let count = 0;
  for (const key in right) {
    const value = right[key];
    if ((value !== null && typeof value === 'object') || left[key] !== value || !Object.prototype.hasOwnProperty.call(left, key)) {
      return false;
    }
    count++;
  }
  // Every key of `right` is in `left`: equal counts leave `left` nothing more.
  for (const _key in left) count--;
  return count === 0;
}

function copyWire(wire: WireEventSubSubscription): WireEventSubSubscription {
  return {
    ...wire,
    transport: copyFlat(wire.transport) as WireEventSubSubscription['transport'],
    condition: copyFlat(wire.condition) as WireEventSubSubscription['condition'],
  };
}

/** A shallow copy of a plain object, or the value itself when it is not one (compared by identity then). */
function copyFlat(value: unknown): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : value;
}
