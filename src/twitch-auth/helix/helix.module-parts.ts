import type { TwitchAuthModulePartsFactory } from '../twitch-auth.module-parts.js';
import { TwitchApiClient } from './twitch-api.client.js';
import { TwitchAuthProvider } from './twitch-auth.provider.js';

/** Helix's contribution to `TwitchAuthModule`: the authenticated client, and twurple's `AuthProvider` over `TokenService`. */
export const helixModuleParts: TwitchAuthModulePartsFactory = () => ({
  providers: [TwitchApiClient, TwitchAuthProvider],
  exports: [TwitchApiClient, TwitchAuthProvider],
});
