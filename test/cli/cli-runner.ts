import { spawn } from 'node:child_process';
import { capturedLogs } from '../support/log-capture.js';

import { CLI_PATH } from '../support/build.js';

export { CLI_PATH, ensureBuilt } from '../support/build.js';

/** A finished CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process. */
export interface RunningCli {
  /** Resolves with the first match of `pattern` in stdout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `node dist/cli/main.js <args>` with exactly `env` (plus PATH and
 * HOME) in `cwd`. Its output is added to the captured logs, so the secrets
 * guard checks that the CLI never printed a secret.
 */
export function startCli(args: string[], env: Record<string, string>, cwd: string): RunningCli {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code) => {
      capturedLogs.push(`cli ${args.join(' ')} stdout: ${stdout}`, `cli ${args.join(' ')} stderr: ${stderr}`);
      resolveDone({ code, stdout, stderr });
    });
  });
  return {
    done,
    kill: (signal = 'SIGTERM') => child.kill(signal),
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (!match) return;
          cleanup();
          resolveMatch(match);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`CLI printed no ${pattern} within ${timeoutMs} ms. stdout:\n${stdout}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void done.then(() => {
          if (listeners.has(check)) {
            cleanup();
            reject(new Error(`CLI exited without printing ${pattern}. stdout:\n${stdout}\nstderr:\n${stderr}`));
          }
        });
        check();
      });
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  return startCli(args, env, cwd).done;
}

/** The environment that points the CLI at `fake`, with its SQLite file at `databasePath`. */
export function cliEnvironment(
  fake: { clientId: string; clientSecret: string | null; idBaseUrl: string; helixBaseUrl: string },
  databasePath: string,
): Record<string, string> {
  return {
    TWITCH_CLIENT_ID: fake.clientId,
    TWITCH_CLIENT_SECRET: fake.clientSecret!,
    TWITCH_ID_BASE_URL: fake.idBaseUrl,
    TWITCH_HELIX_BASE_URL: fake.helixBaseUrl,
    DATABASE_URL: `sqlite:${databasePath}`,
  };
}
