import type { TwitchAuthModulePartsFactory } from '../twitch-auth.module-parts.js';
import { CodeExchangeLimiter } from './code-exchange-limiter.js';
import { createOAuthController } from './oauth.controller.js';
import { OAUTH_ROUTES, OAuthFlow } from './oauth-flow.js';
import { OAuthStateService } from './oauth-state.service.js';

/**
 * The OAuth feature: `OAuthStateService` always (exported, for users who
 * write their own callback), and the built-in routes unless they are off.
 */
export const oauthModuleParts: TwitchAuthModulePartsFactory = (routes) => {
  if (!routes.oauth) return { providers: [OAuthStateService], exports: [OAuthStateService] };
  return {
    providers: [OAuthStateService, OAuthFlow, CodeExchangeLimiter, { provide: OAUTH_ROUTES, useValue: { ...routes.oauth } }],
    controllers: [createOAuthController(routes.oauth)],
    exports: [OAuthStateService],
  };
};
