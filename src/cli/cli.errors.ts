import { CommanderError } from 'commander';
import {
  EncryptionKeyMissingError,
  InvalidClientError,
  MissingClientSecretError,
  RedirectUriMismatchError,
  TokenDecryptionError,
  TwitchAuthConfigError,
} from '../twitch-auth/index.js';

/** The exit codes `twitch-auth` promises (in --help and docs/oauth.md). */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** The operation failed: unknown user, Twitch error, timeout, declined. */
  failed: 1,
  /** The command line or the configuration is wrong: fix it and run again. */
  usage: 2,
  /** Ctrl+C: 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;

/**
 * A failure the CLI explains in one line and maps to an exit code; the
 * message is what the user reads, so it says what to do next.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The command was stopped by Ctrl+C. The message, printed as is, says what
 * was done and what was not, so the user knows whether to run it again.
 */
export class CliInterruptedError extends CliError {
  constructor(whatHappened: string) {
    super(`Interrupted: ${whatHappened}`, ExitCode.interrupted);
    this.name = 'CliInterruptedError';
  }
}

/** True when `error` is the Ctrl+C abort of `signal` (rather than a failure that happened meanwhile). */
export function isInterruption(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error === signal.reason || (error as { name?: unknown } | null)?.name === 'AbortError');
}

/**
 * Errors that mean the settings are wrong, not that the operation failed:
 * bad options or DATABASE_URL, a wrong or missing encryption key, app
 * credentials or redirect URL Twitch does not accept.
 */
const CONFIGURATION_ERRORS = [
  TwitchAuthConfigError,
  EncryptionKeyMissingError,
  TokenDecryptionError,
  InvalidClientError,
  MissingClientSecretError,
  RedirectUriMismatchError,
];

/** The exit code `error` ends the CLI with. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  // Commander's own: 0 after --help or --version; any other is a bad command line.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (CONFIGURATION_ERRORS.some((type) => error instanceof type)) return ExitCode.usage;
  return ExitCode.failed;
}
