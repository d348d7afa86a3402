import type { FakeTwitchContext } from './fake-twitch.context.js';
import { FakeConduitStore } from './fake-twitch.conduits.js';
import type { FakeEventSubDelivery } from './fake-twitch.eventsub.types.js';
import { FakeEventSubStore } from './fake-twitch.helix-store.js';
import type { FakeTwitchStore } from './fake-twitch.store.js';

/** EventSub state of one FakeTwitch: subscriptions of every transport, conduits, and what was delivered. */
export interface FakeEventSubState {
  subscriptions: FakeEventSubStore;
  conduits: FakeConduitStore;
  deliveries: FakeEventSubDelivery[];
}

/**
 * EventSub state lives beside the token store it was created under, so
 * `FakeTwitch.reset()` (which swaps the token store) forgets it too.
 */
const states = new WeakMap<FakeTwitchStore, FakeEventSubState>();

/** The current EventSub state of this FakeTwitch. */
export function eventSubStateOf(context: FakeTwitchContext): FakeEventSubState {
  let state = states.get(context.store);
  if (!state) {
    state = { subscriptions: new FakeEventSubStore(), conduits: new FakeConduitStore(), deliveries: [] };
    states.set(context.store, state);
  }
  return state;
}
