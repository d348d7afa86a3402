import { TwitchAuthConfigError } from '../twitch-auth.errors.js';

/** `TwitchAuthDashboardModule.forRoot` got neither a guard nor `allowUnauthenticated: true`. */
export class DashboardGuardMissingError extends TwitchAuthConfigError {
  constructor(path: string) {
    super(
      `TwitchAuthDashboardModule at ${path} has no guard: anyone reaching it could refresh and revoke every token. ` +
        'Pass guard: YourAuthGuard (a CanActivate class or instance) to forRoot, or allowUnauthenticated: true for local development only.',
    );
  }
}

/** The dashboard is imported without `TwitchAuthModule` in the same application. */
export class DashboardWithoutTwitchAuthError extends TwitchAuthConfigError {
  constructor(options?: { cause?: unknown }) {
    super(
      'TwitchAuthDashboardModule shows what TwitchAuthModule manages: import TwitchAuthModule.forRoot(...) (or forRootAsync) in the same application.',
      options,
    );
  }
}
