import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import { timerSeconds } from '../twitch-auth.option-bounds.js';

/** Twitch's limit of shards in one conduit. */
export const MAX_CONDUIT_SHARDS = 20_000;
/** The shortest shard lease: a lease must outlive a renewal's round trip to the database by a wide margin. */
export const MIN_CONDUIT_LEASE_SECONDS = 2;

/**
 * `eventSub.conduit`: receive this app's subscriptions through a conduit
 * whose WebSocket shards are spread across every instance sharing the
 * database. Each instance holds shard leases (renewed every `renewSeconds`,
 * lapsing after `leaseSeconds`), opens one socket per shard it holds and
 * associates it with Twitch; when an instance dies the others take over its
 * shards once its leases lapse; on shutdown it hands them back at once.
 */
export interface EventSubConduitOptions {
  /** Use this conduit (it must exist). Default: the one stored under `name`, else the app's only conduit, else a new one. */
  id?: string;
  /** The key every instance stores and finds the conduit id under, so all agree on one conduit. Default `'default'`. */
  name?: string;
  /**
   * Shards of the conduit: a number (1 to 20000), or `'auto'` (default): one
   * per 1000 of the app's subscriptions, at least one per live instance.
   */
  shardCount?: number | 'auto';
  /** At most this many shards (sockets) held by one instance. Default 100. */
  maxShardsPerInstance?: number;
  /** A shard lease lapses this long after its last renewal (how long a dead instance's shards stay dark). Default 30; at least 2. */
  leaseSeconds?: number;
  /** How often leases are renewed and the shards re-balanced. Default 10; less than half of `leaseSeconds`. */
  renewSeconds?: number;
  /**
   * What carries a shard: `'websocket'` (default), one socket per shard held;
   * or `'webhook'`, the shards held point at this app's callback (needs
   * `eventSub.secret` and `eventSub.publicUrl`; messages come in through the webhook receiver).
   */
  transport?: 'websocket' | 'webhook';
}

/** `eventSub.conduit` with every default filled in. */
export interface ResolvedEventSubConduitOptions {
  id: string | null;
  name: string;
  shardCount: number | 'auto';
  maxShardsPerInstance: number;
  leaseSeconds: number;
  renewSeconds: number;
  transport: 'websocket' | 'webhook';
}

/** Checks `eventSub.conduit` and fills its defaults; null when absent. */
export function resolveConduitOptions(conduit: EventSubConduitOptions | undefined): ResolvedEventSubConduitOptions | null {
  if (conduit === undefined) return null;
  if (!conduit || typeof conduit !== 'object')
    throw new TwitchAuthConfigError("eventSub.conduit must be an object, e.g. { shardCount: 'auto' }.");
  const id = conduit.id ?? null;
  if (id !== null && (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(id))) {
    throw new TwitchAuthConfigError(
      'eventSub.conduit.id must be a conduit id as Twitch returns it (letters, digits and -), or absent to find or create one.',
    );
  }
  const name = conduit.name ?? 'default';
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
    throw new TwitchAuthConfigError('eventSub.conduit.name must be 1 to 100 letters, digits, _, . or -.');
  }
  const shardCount = conduit.shardCount ?? 'auto';
  if (shardCount !== 'auto' && (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_CONDUIT_SHARDS)) {
    throw new TwitchAuthConfigError(
      `eventSub.conduit.shardCount must be 'auto' or an integer from 1 to ${MAX_CONDUIT_SHARDS} (Twitch's limit); got ${String(shardCount)}.`,
    );
  }
  const maxShardsPerInstance = conduit.maxShardsPerInstance ?? 100;
  if (!Number.isInteger(maxShardsPerInstance) || maxShardsPerInstance < 1) {
    throw new TwitchAuthConfigError(
      `eventSub.conduit.maxShardsPerInstance must be a positive integer; got ${String(maxShardsPerInstance)}.`,
    );
  }
  const leaseSeconds = seconds(conduit.leaseSeconds ?? 30, 'eventSub.conduit.leaseSeconds');
  if (leaseSeconds < MIN_CONDUIT_LEASE_SECONDS) {
    throw new TwitchAuthConfigError(`eventSub.conduit.leaseSeconds must be at least ${MIN_CONDUIT_LEASE_SECONDS}; got ${leaseSeconds}.`);
  }
  const renewSeconds = seconds(conduit.renewSeconds ?? Math.min(10, leaseSeconds / 3), 'eventSub.conduit.renewSeconds');
  if (renewSeconds * 2 >= leaseSeconds) {
    throw new TwitchAuthConfigError(
      `eventSub.conduit.renewSeconds (${renewSeconds}) must be less than half of leaseSeconds (${leaseSeconds}), so one late renewal does not lose a shard: lower renewSeconds or raise leaseSeconds.`,
    );
  }
  const transport = conduit.transport ?? 'websocket';
  if (transport !== 'websocket' && transport !== 'webhook') {
    throw new TwitchAuthConfigError(`eventSub.conduit.transport must be 'websocket' or 'webhook'; got ${JSON.stringify(transport)}.`);
  }
  return { id, name, shardCount, maxShardsPerInstance, leaseSeconds, renewSeconds, transport };
}

/** Webhook shards point at this app's callback, so it must exist and be reachable: refuses a configuration that cannot work. */
export function checkConduitWebhook(conduit: ResolvedEventSubConduitOptions | null, webhook: { publicUrl: string | null } | null): void {
  if (conduit?.transport !== 'webhook') return;
  if (!webhook || !webhook.publicUrl) {
    throw new TwitchAuthConfigError(
      "eventSub.conduit.transport 'webhook' points the shards at this app's callback: set eventSub.secret and eventSub.publicUrl (the public HTTPS origin Twitch reaches the app at), or use transport 'websocket'.",
    );
  }
}

function seconds(value: number, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TwitchAuthConfigError(`${option} must be a positive number of seconds; got ${String(value)}.`);
  }
  return timerSeconds(value, option);
}
