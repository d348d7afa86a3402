import { TokenNotFoundError, type TokenInfo, type TokenService } from '../twitch-auth/index.js';
import { CliError } from './cli.errors.js';
import { expiresIn, tokenTable, who } from './format.js';

/** Where commands write: stdout for results, stderr for progress. Injected so tests and callers can capture. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** `list [--json]`: every stored token, no secrets. */
export async function listTokens(tokens: TokenService, options: { json?: boolean }, output: CliOutput): Promise<void> {
  const infos = await tokens.listTokens();
  if (options.json) {
    output.out(JSON.stringify(infos.map(toJson), null, 2));
    return;
  }
  if (infos.length === 0) {
    output.out('No tokens stored. Add one with: twitch-auth login --scopes chat:read');
    return;
  }
  output.out(tokenTable(infos, Date.now()));
}

/** `validate [userId]`: asks Twitch about one token or all of them; fails when any is dead. */
export async function validateTokens(tokens: TokenService, userId: string | undefined, output: CliOutput): Promise<void> {
  const ids = userId !== undefined ? [userId] : (await tokens.listTokens()).map((info) => info.userId);
  if (ids.length === 0) {
    output.out('No tokens stored: nothing to validate.');
    return;
  }
  let failed = 0;
  for (const id of ids) {
    try {
      const info = await tokens.validate(id);
      output.out(`valid    ${who(info)}: expires in ${expiresIn(info, Date.now())}, scopes ${info.scopes.join(' ') || '-'}`);
    } catch (error) {
      if (userId !== undefined) throw explain(error, id);
      failed++;
      output.out(`INVALID  user ${id}: ${explain(error, id).message}`);
    }
  }
  if (failed > 0) throw new CliError(`${failed} of ${ids.length} tokens failed validation.`);
}

/** `refresh <userId>`: refreshes now (the app does it by itself before expiry; this is for checking or forcing). */
export async function refreshToken(tokens: TokenService, userId: string, output: CliOutput): Promise<void> {
  try {
    const token = await tokens.refresh(userId);
    output.out(`Refreshed the token of ${who({ userId, login: token.login })}; it expires in ${expiresIn(token, Date.now())}.`);
  } catch (error) {
    throw explain(error, userId);
  }
}

/** `revoke <userId>`: revokes at Twitch, then deletes the stored token. */
export async function revokeToken(tokens: TokenService, userId: string, output: CliOutput): Promise<void> {
  const info = await tokens.getTokenInfo(userId);
  try {
    await tokens.revoke(userId);
  } catch (error) {
    throw explain(error, userId);
  }
  output.out(`Revoked the token of ${who(info ?? { userId, login: null })} at Twitch and removed it.`);
}

function explain(error: unknown, userId: string): Error {
  if (error instanceof TokenNotFoundError) {
    return new CliError(`No token is stored for user ${userId}. Run "twitch-auth list" to see the stored users.`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function toJson(info: TokenInfo): Record<string, unknown> {
  return {
    userId: info.userId,
    login: info.login,
    scopes: info.scopes,
    expiresAt: info.expiresAt?.toISOString() ?? null,
    obtainedAt: info.obtainedAt.toISOString(),
    lastValidatedAt: info.lastValidatedAt?.toISOString() ?? null,
    status: info.status,
    intents: info.intents,
  };
}
