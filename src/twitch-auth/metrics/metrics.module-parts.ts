import type { TwitchAuthModulePartsFactory } from '../twitch-auth.module-parts.js';
import { OPENTELEMETRY_API_LOADER, loadOpenTelemetryApi, type OpenTelemetryApiLoader } from './opentelemetry-loader.js';
import { TwitchAuthTokenGauges } from './token-gauges.js';
import { TwitchAuthMetrics } from './twitch-auth.metrics.js';

/**
 * Metrics' contribution to `TwitchAuthModule`: the instruments, from the
 * global meter provider as it is when the module starts (register an SDK
 * before creating the app), and the token gauges. The module never registers
 * an SDK itself.
 */
export const metricsModuleParts: TwitchAuthModulePartsFactory = () => ({
  providers: [
    { provide: OPENTELEMETRY_API_LOADER, useValue: loadOpenTelemetryApi },
    {
      provide: TwitchAuthMetrics,
      useFactory: async (load: OpenTelemetryApiLoader) => TwitchAuthMetrics.fromApi(await load()),
      inject: [OPENTELEMETRY_API_LOADER],
    },
    TwitchAuthTokenGauges,
  ],
});
