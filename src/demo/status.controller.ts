import { Controller, Get } from '@nestjs/common';
import { TokenService, type TokenInfo } from '../twitch-auth/index.js';

/** The demo's token list as JSON, for scripts (never the secrets); the home page is the dashboard. */
@Controller()
export class StatusController {
  constructor(private readonly tokens: TokenService) {}

  /** Every stored token's public facts. */
  @Get('tokens')
  async list(): Promise<TokenInfo[]> {
    return this.tokens.listTokens();
  }
}
