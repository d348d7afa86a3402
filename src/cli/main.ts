#!/usr/bin/env node
import 'reflect-metadata';
import { TwitchAuthError } from '../twitch-auth/index.js';
import { CliError } from './cli.errors.js';
import { debugEnabled } from './cli-context.js';
import { buildProgram } from './program.js';

/**
 * `twitch-auth`: log in Twitch accounts and inspect, validate, refresh and
 * revoke the stored tokens. Exit codes: 0 success, 1 failure, 2 usage or
 * configuration error, 130 cancelled.
 */
const cancel = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  // A second Ctrl+C leaves at once, in case cleanup hangs.
  if (interrupted) process.exit(130);
  interrupted = true;
  cancel.abort();
});

const output = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

try {
  await buildProgram(output, cancel.signal).parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}
// Lingering handles (a keep-alive socket, a driver pool) must not keep a finished command alive.
setTimeout(() => process.exit(), 2_000).unref();

/** Prints one clear line (a stack trace only with DEBUG) and returns the exit code. */
function report(error: unknown): number {
  const debug = debugEnabled();
  if (error instanceof CliError) {
    process.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  const message =
    error instanceof TwitchAuthError ? error.message : `unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else if (!(error instanceof TwitchAuthError)) process.stderr.write('(set DEBUG=1 for details)\n');
  return 1;
}
