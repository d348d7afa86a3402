import { Controller, Get, UseGuards } from '@nestjs/common';
import { TokenService, type TokenInfo } from '../twitch-auth/index.js';
import { DemoAccessGuard } from './dashboard-access.js';

/** The demo's token list as JSON, for scripts (never the secrets), behind the same access rule as the dashboard; the home page is the dashboard. */
@Controller()
@UseGuards(DemoAccessGuard)
export class StatusController {
  constructor(private readonly tokens: TokenService) {}

  /** Every stored token's public facts. */
  @Get('tokens')
  async list(): Promise<TokenInfo[]> {
    return this.tokens.listTokens();
  }
}
