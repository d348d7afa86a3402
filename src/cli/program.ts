import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { checkScopes } from '../twitch-auth/twitch-auth.option-checks.js';
import { CliError, ExitCode } from './cli.errors.js';
import { loadEnvironment, withTokenService } from './cli-context.js';
import { who } from './format.js';
import { checkLoopbackRedirectUri, loginWithBrowser } from './login-browser.js';
import { loginWithDevice } from './login-device.js';
import { registerRotateKeyCommand } from './rotate-key-command.js';
import { listTokens, refreshToken, revokeToken, validateTokens, type CliOutput } from './token-commands.js';

/** Port of the browser login's loopback redirect URI when neither --port nor TWITCH_REDIRECT_URI says otherwise. */
export const DEFAULT_LOGIN_PORT = 17563;

const ENVIRONMENT_HELP = `
Environment (or a .env file in the working directory):
  TWITCH_CLIENT_ID            required: the Client ID of your app in the Twitch developer console
  TWITCH_CLIENT_SECRET        the Client Secret (absent for public clients: use login --device)
  TWITCH_REDIRECT_URI         browser login: a loopback URL such as http://localhost:${DEFAULT_LOGIN_PORT}/callback
  TWITCH_AUTH_ENCRYPTION_KEY  the app's encryption key, when tokens are encrypted at rest
  TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS  older keys still read during a rotation, comma-separated
  DATABASE_URL                default sqlite:data/twitch-auth.sqlite (postgres://... for Postgres)
  TWITCH_ID_BASE_URL, TWITCH_HELIX_BASE_URL   Twitch endpoints (tests point them at FakeTwitch)
  DEBUG                       set to print Nest logs and stack traces

Exit codes:
  0    success
  1    the operation failed (unknown user, Twitch error, timeout, declined, a token found invalid)
  2    usage or configuration error (bad command line, missing TWITCH_CLIENT_ID, bad DATABASE_URL or key...)
  130  interrupted with Ctrl+C (a second Ctrl+C exits at once)`;

interface LoginOptions {
  scopes: string;
  device?: boolean;
  port: number;
  open: boolean;
  timeout: number;
}

/**
 * The `twitch-auth` command line. `signal` aborts long waits (Ctrl+C). A bad
 * command line throws commander's error instead of exiting, printing nothing:
 * the caller prints it in one line and exits 2 (see `exitCodeOf`).
 */
export function buildProgram(output: CliOutput, signal: AbortSignal): Command {
  // Set before the subcommands are added: they copy these settings.
  const program = new Command('twitch-auth')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .description('Manage the Twitch tokens your nestjs-twitch-auth app stores: same settings, same database.')
    .version(packageVersion())
    .addHelpText('after', ENVIRONMENT_HELP);

  program
    .command('login')
    .description('Authorize a Twitch account and store its token (browser flow by default, --device for the device-code flow)')
    .option('--scopes <list>', 'scopes to ask for, comma- or space-separated (e.g. chat:read,chat:edit)', '')
    .option('--device', 'use the device-code flow: enter a code on any device (needed for public clients)')
    .option('--port <port>', `loopback port receiving Twitch's redirect (browser flow)`, parsePort, DEFAULT_LOGIN_PORT)
    .option('--no-open', 'print the authorization URL instead of opening a browser')
    .option('--timeout <seconds>', 'give up after this many seconds', parsePositive, 300)
    .addHelpText(
      'after',
      `\nThe browser flow needs TWITCH_CLIENT_SECRET and the redirect URL http://localhost:<port>/callback\n(default http://localhost:${DEFAULT_LOGIN_PORT}/callback, or TWITCH_REDIRECT_URI) registered at Twitch.\n\nExamples:\n  twitch-auth login --scopes chat:read,chat:edit\n  twitch-auth login --device --scopes chat:read`,
    )
    .action(async (options: LoginOptions, command: Command) => {
      const scopes = parseScopes(options.scopes);
      if (options.device) {
        const info = await withTokenService(
          (tokens) =>
            loginWithDevice(tokens, { scopes, timeoutSeconds: options.timeout, signal, output, tty: Boolean(process.stderr.isTTY) }),
          { signal },
        );
        return reportStored(info, output);
      }
      await loadEnvironment();
      if (!process.env.TWITCH_CLIENT_SECRET && process.env.TWITCH_CLIENT_ID) {
        throw new CliError(
          'The browser login needs TWITCH_CLIENT_SECRET (it exchanges the code); public clients log in with --device.',
          ExitCode.usage,
        );
      }
      const fromEnv = process.env.TWITCH_REDIRECT_URI;
      const useEnv = Boolean(fromEnv) && command.getOptionValueSource('port') !== 'cli';
      const redirectUri = useEnv ? fromEnv! : `http://localhost:${options.port}/callback`;
      checkLoopbackRedirectUri(redirectUri);
      const info = await withTokenService(
        (tokens) => loginWithBrowser(tokens, { scopes, redirectUri, open: options.open, timeoutSeconds: options.timeout, signal, output }),
        { redirectUri, signal },
      );
      reportStored(info, output);
    });

  program
    .command('list')
    .description('List stored tokens: user id, login, scopes, expiry, last validation, status (never the secrets)')
    .option('--json', 'print JSON instead of a table')
    .action((options: { json?: boolean }) => withTokenService((tokens) => listTokens(tokens, options, output), { signal }));

  program
    .command('validate')
    .argument('[userId]', 'the Twitch user id; every stored token when omitted')
    .description('Ask Twitch whether stored tokens are still valid (a dead access token is refreshed)')
    .action((userId: string | undefined) => withTokenService((tokens) => validateTokens(tokens, userId, output, signal), { signal }));

  program
    .command('refresh')
    .argument('<userId>', 'the Twitch user id')
    .description('Refresh a token now (the app refreshes on its own before expiry)')
    .action((userId: string) => withTokenService((tokens) => refreshToken(tokens, userId, output, signal), { signal }));

  program
    .command('revoke')
    .argument('<userId>', 'the Twitch user id')
    .description('Revoke a token at Twitch and delete it from the database')
    .action((userId: string) => withTokenService((tokens) => revokeToken(tokens, userId, output, signal), { signal }));

  registerRotateKeyCommand(program, output, signal);
  return program;
}

function reportStored(info: { userId: string; login: string | null; scopes: string[] }, output: CliOutput): void {
  output.out(`Stored the token of ${who(info)} with scopes: ${info.scopes.join(' ') || '(none)'}`);
}

function parseScopes(value: string): string[] {
  const scopes = [...new Set(value.split(/[\s+,]+/).filter((scope) => scope !== ''))];
  try {
    checkScopes(scopes, '--scopes');
  } catch (error) {
    throw new CliError((error as Error).message, ExitCode.usage);
  }
  return scopes;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError('expected a port number from 1 to 65535.');
  return port;
}

function parsePositive(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError('expected a positive number of seconds.');
  return seconds;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
