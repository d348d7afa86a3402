import { TwitchAuthError } from '../twitch-auth.errors.js';

/** Twitch answered a conduit request in a way that leaves the conduit's state unknown. */
export class EventSubConduitError extends TwitchAuthError {}

/** `eventSub.conduit.id` names a conduit this app does not have. */
export class EventSubConduitNotFoundError extends TwitchAuthError {
  constructor(conduitId: string) {
    super(
      `eventSub.conduit.id is ${conduitId}, but this app has no such conduit (it may have been deleted after 72 h with every shard disabled): ` +
        'remove the id to let the module find or create one, or set the id of an existing conduit.',
    );
  }
}

/** A conduit subscription was asked for, but `eventSub.conduit` is not configured. */
export class EventSubConduitNotConfiguredError extends TwitchAuthError {
  constructor() {
    super(
      "Subscribing with transport 'conduit' needs eventSub.conduit in TwitchAuthModule.forRoot, e.g. eventSub: { secret, conduit: { shardCount: 'auto' } }.",
    );
  }
}
