import { TwitchAuthConfigError, TwitchAuthModule, type EventSubConduitOptions } from '../../src/twitch-auth/index.js';

const base = { clientId: 'client-id', clientSecret: 'client-secret' };
const withConduit = (conduit: EventSubConduitOptions) => ({ ...base, eventSub: { secret: 'a-webhook-secret', conduit } });

describe('eventSub.conduit options', () => {
  it.each<[string, EventSubConduitOptions, RegExp]>([
    ['a shard count past Twitch limit', { shardCount: 20_001 }, /shardCount must be 'auto' or an integer from 1 to 20000/],
    ['a fractional shard count', { shardCount: 1.5 }, /shardCount must be 'auto' or an integer/],
    ['a zero cap', { maxShardsPerInstance: 0 }, /maxShardsPerInstance must be a positive integer/],
    ['a lease shorter than 2 s', { leaseSeconds: 1 }, /leaseSeconds must be at least 2/],
    [
      'renewals too rare for the lease',
      { leaseSeconds: 10, renewSeconds: 5 },
      /renewSeconds \(5\) must be less than half of leaseSeconds \(10\)/,
    ],
    ['a lease no timer can wait for', { leaseSeconds: 3_000_000 }, /leaseSeconds must be at most 2147483/],
    ['an id with a slash', { id: 'a/b' }, /conduit\.id must be a conduit id as Twitch returns it/],
    ['an empty name', { name: '' }, /conduit\.name must be 1 to 100 letters/],
  ])('refuses %s with a message naming the fix', (_, conduit, message) => {
    expect(() => TwitchAuthModule.forRoot(withConduit(conduit))).toThrow(TwitchAuthConfigError);
    expect(() => TwitchAuthModule.forRoot(withConduit(conduit))).toThrow(message);
  });

  it('accepts the short leases tests use, and derives renewals from the lease when not given', () => {
    expect(() => TwitchAuthModule.forRoot(withConduit({ shardCount: 8, leaseSeconds: 5, renewSeconds: 1 }))).not.toThrow();
    expect(() => TwitchAuthModule.forRoot(withConduit({ leaseSeconds: 2 }))).not.toThrow();
    expect(() => TwitchAuthModule.forRoot(withConduit({}))).not.toThrow();
  });
});
