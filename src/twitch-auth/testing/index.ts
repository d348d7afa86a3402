/**
 * Test helpers: a loopback fake of Twitch for users' own tests and offline demos.
 * @module nestjs-twitch-auth/testing
 */
export { FakeTwitch } from './fake-twitch.js';
export { DEVICE_CODE_GRANT_TYPE } from './fake-twitch.token-route.js';
export { twitchErrorResponse } from './fake-twitch.server.js';
export type {
  FailNextOptions,
  FakeChatMessage,
  FakeDeviceCode,
  FakeFailure,
  FakeTokenInfo,
  FakeTwitchEndpoint,
  FakeTwitchOptions,
  FakeTwitchRequest,
  FakeTwitchResponse,
  FakeTwitchRoute,
  FakeUser,
  IssuedAppToken,
  IssuedToken,
  RecordedRequest,
  RefreshTokenReuse,
  RequestFilter,
} from './fake-twitch.types.js';

// EventSub: the signed-message sender (also used by FakeTwitch's Helix handshake)
export { EventSubSender, formatEventSubTimestamp } from './eventsub-sender.js';
export type { EventSubSenderOptions, EventSubSendOptions, EventSubSendResult, EventSubSubscriptionOverrides } from './eventsub-sender.js';
export type {
  WireEventSubConduit,
  WireEventSubConduitShard,
  WireEventSubSubscription,
  WireEventSubTransport,
  WireEventSubWsMessage,
  WireEventSubWsMetadata,
  WireEventSubWsSession,
} from '../twitch/eventsub-wire.types.js';

// EventSub over WebSocket and conduits: what FakeTwitch's publishing and listings return
export type {
  FakeConduitInfo,
  FakeConduitShardInfo,
  FakeEventSubDelivery,
  FakeEventSubPublishOptions,
  FakeEventSubPublishResult,
  FakeEventSubSessionInfo,
  FakeEventSubSessionStatus,
} from './fake-twitch.eventsub.types.js';
