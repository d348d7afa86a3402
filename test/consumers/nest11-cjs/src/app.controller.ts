import { Controller, Get } from '@nestjs/common';
import { TokenService, type TokenInfo } from 'nestjs-twitch-auth';

@Controller()
export class AppController {
  constructor(private readonly tokens: TokenService) {}

  @Get('tokens')
  listTokens(): Promise<TokenInfo[]> {
    return this.tokens.listTokens();
  }
}
