import { TokenNotFoundError, type TokenInfo, type TokenService } from '../twitch-auth/index.js';
import { CliError, CliInterruptedError, isInterruption } from './cli.errors.js';
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

/**
 * `validate [userId]`: asks Twitch about one token or all of them; fails when
 * any is dead. Ctrl+C abandons the token being asked about (it stays as
 * stored) and skips the rest.
 */
export async function validateTokens(
  tokens: TokenService,
  userId: string | undefined,
  output: CliOutput,
  signal: AbortSignal,
): Promise<void> {
  const ids = userId !== undefined ? [userId] : (await tokens.listTokens()).map((info) => info.userId);
  if (ids.length === 0) {
    output.out('No tokens stored: nothing to validate.');
    return;
  }
  let failed = 0;
  let done = 0;
  for (const id of ids) {
    if (signal.aborted) throw validationInterrupted(done, ids, null);
    try {
      const info = await tokens.validate(id, { signal });
      output.out(`valid    ${who(info)}: expires in ${expiresIn(info, Date.now())}, scopes ${info.scopes.join(' ') || '-'}`);
    } catch (error) {
      if (isInterruption(error, signal)) throw validationInterrupted(done, ids, id);
      if (userId !== undefined) throw explain(error, id);
      failed++;
      output.out(`INVALID  user ${id}: ${explain(error, id).message}`);
    }
    done++;
  }
  if (signal.aborted) throw validationInterrupted(done, ids, null);
  if (failed > 0) throw new CliError(`${failed} of ${ids.length} tokens failed validation.`);
}

/** What an interrupted `validate` did: `abandoned` is the user whose validation was waiting for Twitch. */
function validationInterrupted(done: number, ids: string[], abandoned: string | null): CliInterruptedError {
  const parts = [`${done} of ${ids.length} token(s) checked (results above)`];
  if (abandoned !== null) parts.push(`user ${abandoned} was not validated (no answer from Twitch yet) and is stored unchanged`);
  const skipped = ids.length - done - (abandoned === null ? 0 : 1);
  if (skipped > 0) parts.push(`${skipped} not started`);
  return new CliInterruptedError(`${parts.join('; ')}.`);
}

/**
 * `refresh <userId>`: refreshes now (the app does it by itself before expiry;
 * this is for checking or forcing). Ctrl+C abandons the wait for Twitch; a
 * refresh Twitch already answered is stored before the command stops.
 */
export async function refreshToken(tokens: TokenService, userId: string, output: CliOutput, signal: AbortSignal): Promise<void> {
  let token;
  try {
    token = await tokens.refresh(userId, { signal });
  } catch (error) {
    if (isInterruption(error, signal)) {
      throw new CliInterruptedError(
        `the token of user ${userId} was not refreshed: no answer from Twitch had arrived, so the stored token is unchanged. If the request did reach Twitch, run "twitch-auth validate ${userId}" to check the stored token still works.`,
      );
    }
    throw explain(error, userId);
  }
  output.out(`Refreshed the token of ${who({ userId, login: token.login })}; it expires in ${expiresIn(token, Date.now())}.`);
  if (signal.aborted) throw new CliInterruptedError(`Twitch had already answered: the new token of user ${userId} is stored.`);
}

/**
 * `revoke <userId>`: revokes at Twitch, then deletes the stored token. Ctrl+C
 * abandons the wait for Twitch and keeps the stored token.
 */
export async function revokeToken(tokens: TokenService, userId: string, output: CliOutput, signal: AbortSignal): Promise<void> {
  const info = await tokens.getTokenInfo(userId);
  try {
    await tokens.revoke(userId, { signal });
  } catch (error) {
    if (isInterruption(error, signal)) {
      throw new CliInterruptedError(
        `Twitch had not confirmed the revocation of user ${userId}'s token, so it is still stored; run "twitch-auth revoke ${userId}" again to finish.`,
      );
    }
    throw explain(error, userId);
  }
  output.out(`Revoked the token of ${who(info ?? { userId, login: null })} at Twitch and removed it.`);
  if (signal.aborted) throw new CliInterruptedError(`Twitch had already confirmed: the token of user ${userId} is revoked and removed.`);
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
