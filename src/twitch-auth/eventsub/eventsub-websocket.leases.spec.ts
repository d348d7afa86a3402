import { jest } from '@jest/globals';
import { InMemoryEventSubSocketLeaseStore } from '../storage/in-memory-eventsub-socket-lease.store.js';
import type { EventSubSubscriptionStore, StoredEventSubSubscription } from '../storage/eventsub-subscription-store.interface.js';
import { EventSubWebSocketLeases, type WebSocketLeaseHost } from './eventsub-websocket.leases.js';

const ROW: StoredEventSubSubscription = {
  key: 'k1',
  userId: 'u1',
  type: 'channel.follow',
  version: '2',
  condition: { broadcaster_user_id: 'u1', moderator_user_id: 'u1' },
  scopes: [],
  createdAt: new Date(0),
};

/** A lease store whose every call fails while `down` is set, as when the database is unreachable. */
class FlakyLeaseStore extends InMemoryEventSubSocketLeaseStore {
  down = false;

  override announce(owner: string, until: number, now: number): Promise<string[]> {
    return this.down ? Promise.reject(new Error('connection refused')) : super.announce(owner, until, now);
  }

  override renew(owner: string, until: number): Promise<string[]> {
    return this.down ? Promise.reject(new Error('connection refused')) : super.renew(owner, until);
  }
}

describe('EventSubWebSocketLeases when the database cannot be reached', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('keeps its sockets through one failed renewal and closes them before the leases can lapse', async () => {
    const store = new FlakyLeaseStore();
    const open = new Set<string>();
    const dropped: string[] = [];
    const host: WebSocketLeaseHost = {
      localUsers: () => [...open],
      drop: (userId) => {
        open.delete(userId);
        dropped.push(userId);
      },
      reconcile: async (userId) => {
        open.add(userId);
      },
    };
    const subscriptions = { list: async () => [ROW] } as unknown as EventSubSubscriptionStore;
    const leases = new EventSubWebSocketLeases({
      leases: store,
      subscriptions,
      host,
      leaseSeconds: 30,
      renewSeconds: 10,
      takeUsers: true,
      shared: true,
      logger: { log: () => undefined, warn: () => undefined },
    });
    await leases.runRound();
    await new Promise((resolve) => setImmediate(resolve));
    expect(leases.holds('u1')).toBe(true);
    expect([...open]).toEqual(['u1']);

    store.down = true;
    jest.advanceTimersByTime(10_000);
    await leases.runRound();
    // One missed renewal: the lease written 10 s ago still has 20 s to run.
    expect({ open: [...open], dropped }).toEqual({ open: ['u1'], dropped: [] });

    jest.advanceTimersByTime(10_000);
    await leases.runRound();
    // Two missed: the lease lapses within one more round, when another instance may take the user.
    expect({ open: [...open], dropped, held: leases.holds('u1') }).toEqual({ open: [], dropped: ['u1'], held: false });
    await leases.stop();
  });
});
