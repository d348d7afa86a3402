import type { TwitchAuthModulePartsFactory } from '../twitch-auth.module-parts.js';
import { TokenBacklogReader } from './token-backlog.js';
import { TwitchAuthHealthIndicator } from './twitch-auth.health.js';
import { TwitchAuthMaintenance } from './twitch-auth-maintenance.js';

/**
 * Scheduling's contribution to `TwitchAuthModule`: the maintenance timer and
 * its health indicator, always registered (with `maintenance.enabled: false`
 * the timer never starts, but `status()`, `backlog()` and `runNow()` work).
 */
export const schedulingModuleParts: TwitchAuthModulePartsFactory = () => ({
  providers: [TokenBacklogReader, TwitchAuthMaintenance, TwitchAuthHealthIndicator],
  exports: [TwitchAuthMaintenance, TwitchAuthHealthIndicator],
});
