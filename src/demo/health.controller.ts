import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { TwitchAuthHealthIndicator, TwitchAuthMaintenance, type MaintenanceStatus } from '../twitch-auth/index.js';

/**
 * The demo's health endpoints: what a load balancer or Kubernetes probe
 * would poll, and this instance's scheduler state for people running
 * several instances side by side.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly twitchAuth: TwitchAuthHealthIndicator,
    private readonly maintenance: TwitchAuthMaintenance,
  ) {}

  /** 200 when tokens are maintained on time (or degraded: some users must authorize again), 503 otherwise. */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.twitchAuth.isHealthy('twitch-auth')]);
  }

  /** This instance's ticks and their outcomes. */
  @Get('maintenance')
  status(): MaintenanceStatus {
    return this.maintenance.status();
  }
}
