/**
 * The package root: the Nest module, TokenService, storage, OAuth, EventSub
 * and maintenance.
 * @module nestjs-twitch-auth
 */
// Public entry of nestjs-twitch-auth: explicit named exports only.

// Module and options
export { TwitchAuthModule, TWITCH_AUTH_MODULE_OPTIONS } from './twitch-auth.module.js';
export type {
  TwitchAuthModuleAsyncOptions,
  TwitchAuthAsyncRoutes,
  TwitchAuthRuntimeOptions,
  TwitchAuthStructuralOptions,
} from './twitch-auth.module.js';
export { resolveTwitchAuthOptions } from './twitch-auth.option-resolver.js';
export type {
  TwitchAuthModuleOptions,
  ResolvedTwitchAuthOptions,
  OAuthRouteOptions,
  EventSubOptions,
  EventSubWebSocketOptions,
  EventSubMount,
  MaintenanceOptions,
  TwitchEndpointOptions,
  TokenStorageOption,
  BotAccountOptions,
} from './twitch-auth.options.js';
export { TWITCH_AUTH_RESOLVED_OPTIONS, SIMPLE_MODE_INTENT } from './twitch-auth.constants.js';

// Events
export { TwitchAuthEvent, TokenIssuedEvent, eventSubEventName } from './twitch-auth.events.js';
export type {
  BotReadyEvent,
  TokenRefreshFailedEvent,
  TokenRevokedEvent,
  TokenValidatedEvent,
  OAuthAuthorizedEvent,
  OAuthFailedEvent,
} from './twitch-auth.events.js';

// Errors
export { TwitchAuthError, TwitchAuthConfigError } from './twitch-auth.errors.js';
export {
  TokenNotFoundError,
  MissingScopesError,
  ReauthorizationRequiredError,
  TokenRefreshFailedError,
  TokenLeaseTimeoutError,
  TwitchAuthShuttingDownError,
  TokenDecryptionError,
  EncryptionKeyMissingError,
  PlaintextTokenError,
  EncryptionKeyRequiredError,
  SimpleModeTokenPendingError,
  SimpleModeTokenRejectedError,
  TokenSourceWrongUserError,
} from './tokens/token.errors.js';
export {
  TwitchRequestError,
  TwitchNetworkError,
  TwitchTimeoutError,
  TwitchServerError,
  TwitchRateLimitError,
  InvalidRefreshTokenError,
  InvalidClientError,
  MissingClientSecretError,
  InvalidAuthorizationCodeError,
  RedirectUriMismatchError,
  InvalidAccessTokenError,
  AuthorizationPendingError,
  SlowDownError,
  InvalidDeviceCodeError,
  DeviceAccessDeniedError,
  DeviceCodeExpiredError,
  TwitchUnexpectedResponseError,
} from './twitch/twitch.errors.js';
export type { TwitchEndpoint } from './twitch/twitch.errors.js';

// Tokens
export { TokenService } from './tokens/token.service.js';
export type { AuthorizationUrlOptions, AddTokenOptions, TokenCallOptions } from './tokens/token-service.options.js';
export { AccessToken } from './tokens/access-token.js';
export type { TokenInfo, AccessTokenData } from './tokens/access-token.js';
export type { TokenSource, TokenSourceRequest, TokenSourceResult, TokenSourceReason } from './tokens/token-source.interface.js';
export type { WaitForDeviceTokenOptions, DevicePollEvent } from './tokens/device-flow.js';
export { TokenCipher } from './tokens/token-cipher.js';
export type { TokenCipherOptions, TokenColumn, SecretPlace, RevealedSecret } from './tokens/token-cipher.js';
export { TokenKeyRotator } from './tokens/token-key-rotation.js';
export type { KeyRotationOptions, KeyRotationProgress, KeyRotationResult } from './tokens/token-key-rotation.js';

// Twitch wire layer
export { TwitchIdentityClient } from './twitch/twitch-identity.client.js';
export type { TwitchIdentityClientConfig, AuthorizeUrlParams } from './twitch/twitch-identity.client.js';
export type { TokenGrant, TokenValidation, DeviceCode } from './twitch/twitch.types.js';

// Storage
export { TokenRepository } from './storage/token-repository.interface.js';
export type {
  StoredToken,
  NewStoredToken,
  StoredTokenChanges,
  UpdateCondition,
  TokenStatus,
} from './storage/token-repository.interface.js';
export { InMemoryTokenRepository } from './storage/in-memory-token.repository.js';
export { hasTokenBatchOperations } from './storage/token-batches.interface.js';
export type { TokenBatchOperations, ClaimRequest, BatchedUpdate } from './storage/token-batches.interface.js';
export { ClaimStore } from './storage/claim-store.interface.js';
export { InMemoryClaimStore, IN_MEMORY_CLAIM_LIMIT } from './storage/in-memory-claim.store.js';
export { ConduitShardStore } from './storage/conduit-shard-store.interface.js';
export type { ConduitShardLease } from './storage/conduit-shard-store.interface.js';
export { InMemoryConduitShardStore } from './storage/in-memory-conduit-shard.store.js';
export * from './storage/typeorm/index.js';

// OAuth: browser authorization-code flow (built-in routes, or your own controller with OAuthStateService)
export { OAuthStateService, OAUTH_STATE_COOKIE_PREFIX } from './oauth/oauth-state.service.js';
export type { IssuedOAuthState, OAuthStateIssueOptions, VerifiedOAuthState } from './oauth/oauth-state.service.js';
export { OAuthReturnToTooLongError, OAuthStateError } from './oauth/oauth.errors.js';
export {
  CODE_EXCHANGE_RETRY_AFTER_SECONDS,
  MAX_CONCURRENT_CODE_EXCHANGES,
  MAX_QUEUED_CODE_EXCHANGES,
} from './oauth/code-exchange-limiter.js';
export type { OAuthFailureReason, OAuthStateFailureReason } from './oauth/oauth.errors.js';

// EventSub: webhook receiver, signature verification, subscription management
export { EventSubService } from './eventsub/eventsub.service.js';
export {
  EventSubVerifier,
  signEventSubMessage,
  parseEventSubTimestamp,
  EVENTSUB_SIGNATURE_PREFIX,
  EVENTSUB_MAX_FUTURE_SKEW_SECONDS,
} from './eventsub/eventsub-signature.js';
export type {
  EventSubVerifierOptions,
  EventSubSignedMessage,
  EventSubVerification,
  EventSubRejection,
} from './eventsub/eventsub-signature.js';
export { EventSubHeader, EVENTSUB_MAX_BODY_BYTES } from './eventsub/eventsub-receiver.js';
export { EVENTSUB_CLAIM_NAMESPACE } from './eventsub/eventsub-deduplicator.js';
export {
  EventSubNotConfiguredError,
  EventSubPublicUrlMissingError,
  EventSubRawBodyMissingError,
  EventSubSubscriptionError,
} from './eventsub/eventsub.errors.js';
export type { EventSubSubscribeOptions } from './eventsub/eventsub.service.js';
// EventSub over WebSocket: one session (reused by conduit shards), the per-user transport, its limits and errors
export {
  EventSubWebSocketConnection,
  TWITCH_EVENTSUB_WEBSOCKET_URL,
  EVENTSUB_WEBSOCKET_CLOSE_CODES,
  eventSubReconnectDelayMs,
} from './eventsub/eventsub-websocket.connection.js';
export type {
  EventSubWebSocketConnectionOptions,
  EventSubWebSocketDelivery,
  EventSubWebSocketDeliveryMeta,
  EventSubWebSocketLoss,
  EventSubSocketTransport,
} from './eventsub/eventsub-websocket.connection.js';
export { EventSubWebSocketTransport } from './eventsub/eventsub-websocket.transport.js';
export { EVENTSUB_WEBSOCKET_LIMITS } from './eventsub/eventsub-websocket.user-sockets.js';
export { EVENTSUB_SCOPES, eventSubScopes } from './eventsub/eventsub.scopes.js';
export {
  EventSubWebSocketConnectError,
  EventSubWebSocketWelcomeTimeoutError,
  EventSubWebSocketClosedError,
  EventSubWebSocketLimitError,
} from './eventsub/eventsub-websocket.errors.js';
export type { EventSubWebSocketLimit } from './eventsub/eventsub-websocket.errors.js';
export { EventSubSubscriptionStore, eventSubSubscriptionKey } from './storage/eventsub-subscription-store.interface.js';
export type { StoredEventSubSubscription } from './storage/eventsub-subscription-store.interface.js';
export { InMemoryEventSubSubscriptionStore } from './storage/in-memory-eventsub-subscription.store.js';
export { EventSubSocketLeaseStore } from './storage/eventsub-socket-lease-store.interface.js';
export type { EventSubSocketLease } from './storage/eventsub-socket-lease-store.interface.js';
export { InMemoryEventSubSocketLeaseStore } from './storage/in-memory-eventsub-socket-lease.store.js';
export type { EventSubWebSocketStatus } from './eventsub/eventsub-websocket.leases.js';
export { MIN_WEBSOCKET_LEASE_SECONDS } from './eventsub/eventsub-websocket.lease-options.js';
export { EVENTSUB_WEBSOCKET_PENDING_STATUS } from './eventsub/eventsub.types.js';
export type {
  EventSubCondition,
  EventSubSubscription,
  EventSubSubscriptionStatus,
  EventSubSubscriptionSpec,
  EventSubListFilter,
  EventSubEnsureResult,
  EventSubNotification,
  EventSubRevocation,
  EventSubEventMap,
  EventSubTransportMethod,
  EventSubTransportChoice,
  ChannelFollowEvent,
  StreamOnlineEvent,
  StreamOfflineEvent,
  ChannelSubscribeEvent,
  ChannelCheerEvent,
  ChannelRaidEvent,
  ChannelChatMessageEvent,
  ChatMessageFragment,
} from './eventsub/eventsub.types.js';
// EventSub conduits: shards spread across the instances sharing the database
export { EventSubConduitShards, SUBSCRIPTIONS_PER_AUTO_SHARD } from './eventsub/eventsub-conduit.shards.js';
export { MAX_CONDUIT_SHARDS, MIN_CONDUIT_LEASE_SECONDS } from './eventsub/eventsub-conduit.options.js';
export type { EventSubConduitOptions, ResolvedEventSubConduitOptions } from './eventsub/eventsub-conduit.options.js';
export type { EventSubConduitStatus } from './eventsub/eventsub-conduit.types.js';
export {
  EventSubConduitError,
  EventSubConduitNotFoundError,
  EventSubConduitNotConfiguredError,
} from './eventsub/eventsub-conduit.errors.js';
export { TwitchHelixClient } from './twitch/helix.client.js';
export type { HelixRequest, HelixAnswer, CreateEventSubSubscriptionOutcome } from './twitch/helix.client.js';

// Helix: authenticated calls with per-token rate limits, and twurple's AuthProvider over TokenService
export { TwitchApiClient } from './helix/twitch-api.client.js';
export { TwitchAuthProvider } from './helix/twitch-auth.provider.js';
export type { TwurpleUser, TwurpleAccessToken, AccessTokenWithUserId, AccessTokenMaybeWithUserId } from './helix/twitch-auth.provider.js';
export { HelixUnauthorizedError, HelixResponseError } from './helix/helix.errors.js';
export type { HelixTokenOwner } from './helix/helix.errors.js';
export type {
  HelixAuth,
  HelixCallOptions,
  HelixMethod,
  HelixQueryValue,
  HelixResponse,
  HelixUser,
  GetUsersOptions,
  SendChatMessageOptions,
  SentChatMessage,
} from './helix/helix.types.js';
export type { TwitchHttpResponse } from './twitch/twitch-http.js';
export type {
  WireCreateEventSubSubscription,
  WireEventSubSubscriptionList,
  WireEventSubNotificationBody,
  WireEventSubRevocationBody,
} from './twitch/eventsub-wire.types.js';

// Scheduling: hourly validation and refresh before expiry, on a timer, across instances; health for @nestjs/terminus
export { TwitchAuthMaintenance, MAINTENANCE_TIMER_NAME, BACKLOG_COUNT_LIMIT } from './scheduling/twitch-auth-maintenance.js';
export type { MaintenanceStatus, MaintenanceTickSummary, MaintenanceTotals, MaintenanceBacklog } from './scheduling/maintenance.types.js';
export { TwitchAuthHealthIndicator } from './scheduling/twitch-auth.health.js';
export type { TwitchAuthHealthDetails, TwitchAuthConduitHealth, TwitchAuthWebSocketHealth } from './scheduling/twitch-auth.health.js';
export { isTokenBacklogCounter } from './scheduling/token-backlog.js';
export type { TokenBacklogCounter, TokenBacklogQuery, TokenBacklogCounts } from './scheduling/token-backlog.js';

// Dashboard: the operator's page, opt-in and guarded
export { TwitchAuthDashboardModule } from './dashboard/dashboard.module.js';
export type { TwitchAuthDashboardOptions } from './dashboard/dashboard.options.js';
export { DashboardGuardMissingError, DashboardWithoutTwitchAuthError } from './dashboard/dashboard.errors.js';

// Metrics: OpenTelemetry instruments (recorded when the app registers an SDK; see docs/operations.md)
export { TwitchAuthMetricName, TWITCH_AUTH_METER_NAME } from './metrics/twitch-auth.metrics.js';
export type {
  RefreshOutcome,
  ValidationOutcome,
  RevocationOutcome,
  EventSubTransportName,
  EventSubMessageOutcome,
} from './metrics/twitch-auth.metrics.js';
