import { fork, type ChildProcess } from 'node:child_process';

/** What a bench child process sends its parent over IPC. */
type ChildMessage =
  { type: 'result'; value: unknown } | { type: 'error'; message: string; stack: string } | { type: 'progress'; text: string };

/** Set by `run.ts --cpu-prof`; an environment variable so that grandchildren (FakeTwitch) profile too. */
const PROFILE_DIRECTORY_VARIABLE = 'TWITCH_AUTH_BENCH_CPU_PROF_DIR';

/** `run.ts --cpu-prof`: every child process writes a CPU profile into `directory`. */
export function enableChildProfiles(directory: string): void {
  process.env[PROFILE_DIRECTORY_VARIABLE] = directory;
}

/** Node flags for a child named `label`: a CPU profile named after it when profiling. */
export function childExecArgv(label: string): string[] {
  const profileDirectory = process.env[PROFILE_DIRECTORY_VARIABLE];
  if (!profileDirectory) return [];
  const name = `${label.replace(/[^A-Za-z0-9_.-]+/g, '-')}.${Date.now()}.cpuprofile`;
  return ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`, `--cpu-prof-name=${name}`];
}

/**
 * Runs `script` (a compiled bench module that calls `runAsChild`) in its own
 * Node process with `params`, and resolves with what it returns. Progress
 * lines the child reports go to stderr.
 */
export function runChild<R>(script: URL, params: unknown, options: { label: string; execArgv?: string[]; timeoutMs?: number }): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const child: ChildProcess = fork(script, [JSON.stringify(params)], {
      execArgv: [...childExecArgv(options.label), ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    const timer = setTimeout(
      () => {
        if (settled) return;
        settled = true;
        child.kill('SIGKILL');
        reject(new Error(`${script.pathname.split('/').pop()} did not finish within ${options.timeoutMs} ms`));
      },
      options.timeoutMs ?? 20 * 60_000,
    );
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'progress') process.stderr.write(`    ${message.text}\n`);
      else if (message.type === 'result' && !settled) {
        settled = true;
        resolve(message.value as R);
      } else if (message.type === 'error' && !settled) {
        settled = true;
        process.stderr.write(`${message.stack}\n`);
        reject(new Error(message.message));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(new Error(`${script.pathname.split('/').pop()} exited (code ${code}, signal ${signal}) without a result`));
      }
    });
  });
}

/** In a child: reads the parameters, runs `main`, sends the result (or the error) and exits. */
export function runAsChild<P, R>(main: (params: P) => Promise<R>): void {
  const params = JSON.parse(process.argv[2] ?? '{}') as P;
  main(params).then(
    (value) => send({ type: 'result', value }, 0),
    (error: unknown) =>
      send(
        {
          type: 'error',
          message: error instanceof Error ? error.message : String(error),
          stack: error instanceof Error ? (error.stack ?? error.message) : String(error),
        },
        1,
      ),
  );
}

/** In a child: a progress line for the person watching the run. */
export function reportProgress(text: string): void {
  process.send?.({ type: 'progress', text } satisfies ChildMessage);
}

function send(message: ChildMessage, exitCode: number): void {
  if (!process.send) {
    console.log(JSON.stringify(message, null, 2));
    process.exit(exitCode);
  }
  process.send(message, () => process.exit(exitCode));
}
