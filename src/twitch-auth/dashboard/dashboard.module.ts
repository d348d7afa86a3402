import { Module, type DynamicModule } from '@nestjs/common';
import { DashboardData } from './dashboard-data.js';
import { createDashboardController } from './dashboard.controller.js';
import { resolveDashboardOptions, type TwitchAuthDashboardOptions } from './dashboard.options.js';

/**
 * The operator's page: every token with its state and expiry, maintenance
 * and EventSub at a glance, 24 hours of activity, and validate / refresh /
 * revoke buttons. Opt-in, server-rendered, and mounted only behind a guard
 * the app supplies:
 *
 * ```ts
 * imports: [
 *   TwitchAuthModule.forRoot({ ... }),
 *   TwitchAuthDashboardModule.forRoot({ path: '/twitch-auth', guard: AdminGuard }),
 * ]
 * ```
 */
@Module({})
export class TwitchAuthDashboardModule {
  /** Mounts the page at `options.path`; throws `DashboardGuardMissingError` without a guard or `allowUnauthenticated: true`. */
  static forRoot(options: TwitchAuthDashboardOptions): DynamicModule {
    const settings = resolveDashboardOptions(options);
    return {
      module: TwitchAuthDashboardModule,
      imports: options.imports ?? [],
      providers: [DashboardData],
      controllers: [createDashboardController(settings)],
    };
  }
}
