import type { Provider } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { TwitchAuthModulePartsFactory } from '../twitch-auth.module-parts.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchApiClient } from '../helix/twitch-api.client.js';
import { TwitchHelixClient } from '../twitch/helix.client.js';
import { EventSubConduitLocator } from './eventsub-conduit.locator.js';
import { EventSubConduitShards } from './eventsub-conduit.shards.js';
import { EventSubDeduplicator } from './eventsub-deduplicator.js';
import { EVENTSUB_DIRECT_PATH, EventSubDirectRoute } from './eventsub-direct-route.js';
import { EventSubDispatcher } from './eventsub-dispatcher.js';
import { EventSubReceiver } from './eventsub-receiver.js';
import { EventSubSocketDelivery } from './eventsub-socket-delivery.js';
import { EventSubTokenRevoker } from './eventsub-token-revoker.js';
import { EventSubVerifier } from './eventsub-signature.js';
import { EventSubWebSocketTransport } from './eventsub-websocket.transport.js';
import { createEventSubController } from './eventsub.controller.js';
import { EVENTSUB_MOUNTED_PATH, EventSubService } from './eventsub.service.js';

/**
 * EventSub's contribution to `TwitchAuthModule`: the Helix client and
 * `EventSubService` always (subscriptions can be managed from an instance
 * that receives nothing), the callback (controller or direct route, see
 * `EventSubMount`) and its receiver only when `routes.eventSub` mounts one.
 */
export const eventSubModuleParts: TwitchAuthModulePartsFactory = (routes) => {
  const providers: Provider[] = [
    { provide: EVENTSUB_MOUNTED_PATH, useValue: routes.eventSub?.path ?? null },
    {
      provide: EventSubVerifier,
      useFactory: ({ eventSub }: ResolvedTwitchAuthOptions) =>
        eventSub
          ? new EventSubVerifier({
              secrets: [eventSub.secret, ...eventSub.previousSecrets],
              maxMessageAgeSeconds: eventSub.maxMessageAgeSeconds,
            })
          : null,
      inject: [TWITCH_AUTH_RESOLVED_OPTIONS],
    },
    {
      provide: TwitchHelixClient,
      useFactory: (api: TwitchApiClient) => new TwitchHelixClient(api),
      inject: [TwitchApiClient],
    },
    EventSubDeduplicator,
    EventSubDispatcher,
    EventSubTokenRevoker,
    EventSubWebSocketTransport,
    EventSubService,
    EventSubConduitLocator,
    EventSubSocketDelivery,
    EventSubConduitShards,
  ];
  if (!routes.eventSub) return { providers, exports: [EventSubService, TwitchHelixClient, EventSubConduitShards] };
  if (routes.eventSub.mount === 'direct') {
    return {
      providers: [...providers, EventSubReceiver, { provide: EVENTSUB_DIRECT_PATH, useValue: routes.eventSub.path }, EventSubDirectRoute],
      exports: [EventSubService, TwitchHelixClient, EventSubConduitShards],
    };
  }
  return {
    providers: [...providers, EventSubReceiver],
    controllers: [createEventSubController(routes)],
    exports: [EventSubService, TwitchHelixClient, EventSubConduitShards],
  };
};
