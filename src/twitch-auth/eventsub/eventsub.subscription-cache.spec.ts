import type { WireEventSubSubscription } from '../twitch/eventsub-wire.types.js';
import { toEventSubSubscription } from './eventsub.converters.js';
import { EventSubSubscriptionCache } from './eventsub.subscription-cache.js';

function wire(overrides: Partial<WireEventSubSubscription> = {}): WireEventSubSubscription {
  return {
    id: 'sub-1',
    status: 'enabled',
    type: 'channel.follow',
    version: '2',
    cost: 0,
    condition: { broadcaster_user_id: '1337', moderator_user_id: '1337' },
    transport: { method: 'websocket', session_id: 'session-1' },
    created_at: '2024-05-01T12:00:00.123456789Z',
    ...overrides,
  } as WireEventSubSubscription;
}

describe('EventSubSubscriptionCache', () => {
  it('converts like toEventSubSubscription, once per unchanged subscription, and freezes what it shares', () => {
    const cache = new EventSubSubscriptionCache();
    const first = cache.convert(wire());
    expect(first).toEqual(toEventSubSubscription(wire()));
    // A new body with the same content (every message parses its own) gets the same object.
    expect(cache.convert(wire())).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.condition) && Object.isFrozen(first.transport)).toBe(true);
  });

  it.each<[string, Partial<WireEventSubSubscription>]>([
    ['status', { status: 'authorization_revoked' as never }],
    ['cost', { cost: 1 }],
    ['version', { version: '1' }],
    ['created_at', { created_at: '2024-05-02T12:00:00Z' }],
    ['a condition value', { condition: { broadcaster_user_id: '1337', moderator_user_id: '42' } }],
    ['a condition key more', { condition: { broadcaster_user_id: '1337', moderator_user_id: '1337', user_id: '1' } }],
    ['a condition key less', { condition: { broadcaster_user_id: '1337' } }],
    ['the session', { transport: { method: 'websocket', session_id: 'session-2' } as never }],
  ])('converts again when %s changed', (_what, change) => {
    const cache = new EventSubSubscriptionCache();
    const before = cache.convert(wire());
    const after = cache.convert(wire(change));
    expect(after).not.toBe(before);
    expect(after).toEqual(toEventSubSubscription(wire(change)));
  });

  it('is not fooled by a body changed after it was converted', () => {
    const cache = new EventSubSubscriptionCache();
    const body = wire();
    cache.convert(body);
    body.condition.moderator_user_id = '42';
    expect(cache.convert(body).condition.moderator_user_id).toBe('42');
  });

  it('stays bounded', () => {
    const cache = new EventSubSubscriptionCache(2);
    const a = cache.convert(wire({ id: 'a' }));
    cache.convert(wire({ id: 'b' }));
    cache.convert(wire({ id: 'c' }));
    // Past its limit the cache started over: `a` is converted anew.
    expect(cache.convert(wire({ id: 'a' }))).not.toBe(a);
  });
});
