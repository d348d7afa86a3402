#!/usr/bin/env node
import 'reflect-metadata';
import { CommanderError } from 'commander';
import { TwitchAuthError } from '../twitch-auth/index.js';
import { CliError, CliInterruptedError, ExitCode, exitCodeOf } from './cli.errors.js';
import { debugEnabled } from './cli-context.js';
import { buildProgram } from './program.js';

/**
 * `twitch-auth`: log in Twitch accounts and inspect, validate, refresh and
 * revoke the stored tokens. Exit codes: 0 success, 1 the operation failed,
 * 2 usage or configuration error, 130 interrupted (Ctrl+C).
 */
const cancel = new AbortController();
process.on('SIGINT', () => {
  // The first Ctrl+C lets the command stop cleanly (and finish a write already under way); a second one leaves at once.
  if (cancel.signal.aborted) {
    process.stderr.write('Interrupted again: exiting at once.\n');
    process.exit(ExitCode.interrupted);
  }
  cancel.abort();
});

const output = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

try {
  await buildProgram(output, cancel.signal).parseAsync(process.argv);
  // The command finished before it noticed Ctrl+C: say so, so the user knows nothing was cut short.
  if (cancel.signal.aborted) throw new CliInterruptedError('the command had already finished; everything it printed was done.');
} catch (error) {
  process.exitCode = report(error);
}
// Interrupted: leave now rather than wait for sockets to drain. Otherwise lingering handles
// (a keep-alive socket, a driver pool) must still not keep a finished command alive.
if (process.exitCode === ExitCode.interrupted) process.exit(ExitCode.interrupted);
setTimeout(() => process.exit(), 2_000).unref();

/** Prints one clear line (a stack trace only with DEBUG) and returns the exit code. */
function report(error: unknown): number {
  const code = exitCodeOf(error);
  if (error instanceof CommanderError) {
    // --help and --version printed what they had to (so did a missing command, its help on stderr); a usage error is one line.
    if (code !== ExitCode.ok && error.code !== 'commander.help')
      process.stderr.write(`error: ${error.message.replace(/^error: /, '')} (see twitch-auth --help)\n`);
    return code;
  }
  if (error instanceof CliInterruptedError) {
    process.stderr.write(`${error.message}\n`);
    return code;
  }
  if (error instanceof CliError) {
    process.stderr.write(`error: ${error.message}\n`);
    return code;
  }
  const message =
    error instanceof TwitchAuthError ? error.message : `unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`error: ${message}\n`);
  if (debugEnabled() && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else if (!(error instanceof TwitchAuthError)) process.stderr.write('(set DEBUG=1 for details)\n');
  return code;
}
