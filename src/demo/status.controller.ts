import { Controller, Get, Header } from '@nestjs/common';
import { TokenService, type TokenInfo } from '../twitch-auth/index.js';

/** The demo's status page: what is stored (never the secrets) and a link to authorize. */
@Controller()
export class StatusController {
  constructor(private readonly tokens: TokenService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async page(): Promise<string> {
    const tokens = await this.tokens.listTokens();
    const rows = tokens.map(row).join('') || '<tr><td colspan="5">No tokens yet.</td></tr>';
    const mode =
      process.env.TWITCH_AUTH_DEMO_FAKE === '1' ? '<p><strong>Offline mode:</strong> running against the bundled FakeTwitch.</p>' : '';
    return `<!doctype html><html><head><title>nestjs-twitch-auth demo</title></head><body>
<h1>nestjs-twitch-auth demo</h1>${mode}
<p><a href="/oauth?set=bot">Authorize a Twitch account</a></p>
<table border="1" cellpadding="4"><thead><tr><th>User id</th><th>Login</th><th>Scopes</th><th>Expires</th><th>Status</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>`;
  }

  @Get('tokens')
  async list(): Promise<TokenInfo[]> {
    return this.tokens.listTokens();
  }
}

function row(info: TokenInfo): string {
  const cells = [info.userId, info.login ?? '', info.scopes.join(' '), info.expiresAt?.toISOString() ?? 'never', info.status];
  return `<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
