import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { ROOT } from '../support/build.js';

/** How long one npm or tsc step may take: a cold npm cache on a loaded machine is slow, a hung registry must still fail. */
const STEP_TIMEOUT_MS = 300_000;
/** How long a started process may take to print the line that says it is ready. */
const READY_TIMEOUT_MS = 60_000;

/**
 * The environment for npm and the consumer's processes: this process's own
 * (so the user's npm configuration, registry and cache apply), minus what
 * describes the project that runs the test. Under `npm test`, npm exports this
 * repository as `npm_config_local_prefix`, `npm_package_*` and `INIT_CWD`, and
 * NODE_OPTIONS carries Jest's VM-modules flag, which a consumer app does not run with.
 */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_)/i.test(name)) continue;
    if (['npm_config_local_prefix', 'INIT_CWD', 'NODE_OPTIONS'].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `command args` in `cwd`; the error names the step and carries its output. */
export async function run(cwd: string, command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd, env: consumerEnv(), timeout: STEP_TIMEOUT_MS, maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`${command} ${args.join(' ')}\` failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

/** `npm pack` of this repository's built package into `destination`; returns the tarball's path. */
export async function packPackage(destination: string): Promise<string> {
  const stdout = await run(ROOT, 'npm', ['pack', '--pack-destination', destination, '--json']);
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  return join(destination, filename);
}

/**
 * Copies the consumer fixture `name` to `destination` (without anything built
 * or installed in place), installs its locked dependencies and the packed
 * `tarball` the way a user would, and compiles it with its own TypeScript.
 * Returns how long each step took, for the test's log (the cost it adds to `npm test`).
 */
export async function prepareConsumer(name: string, destination: string, tarball: string): Promise<string> {
  const source = join(ROOT, 'test/consumers', name);
  cpSync(source, destination, {
    recursive: true,
    filter: (path) => !/[\\/](node_modules|dist)$/.test(path) && !path.endsWith('.tsbuildinfo'),
  });
  const quiet = ['--prefer-offline', '--no-audit', '--no-fund'];
  const steps: string[] = [];
  const timed = async (step: string, work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    steps.push(`${step} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  await timed('npm ci', () => run(destination, 'npm', ['ci', ...quiet]));
  await timed('npm install <tarball>', () => run(destination, 'npm', ['install', '--no-save', ...quiet, tarball]));
  await timed('tsc', () =>
    run(destination, process.execPath, [join(destination, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']),
  );
  return `${name}: ${steps.join(', ')}`;
}

/** A running `node <script>` of a consumer app, with its output kept for failure messages. */
export class ConsumerProcess {
  output = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  /** Starts `node <script>` in `cwd` and resolves with the first stdout line matching `ready`. */
  static async start(
    cwd: string,
    script: string,
    ready: RegExp,
    env: Record<string, string> = {},
  ): Promise<{ process: ConsumerProcess; line: string }> {
    const child = spawn(process.execPath, [script], { cwd, env: consumerEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const started = new ConsumerProcess(child);
    const line = await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${script} printed no ${ready} within ${READY_TIMEOUT_MS} ms:\n${started.output}`)),
        READY_TIMEOUT_MS,
      );
      const onData = () => {
        const found = started.output.split('\n').find((candidate) => ready.test(candidate));
        if (found === undefined) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolveLine(found);
      };
      child.stdout!.on('data', onData);
      void started.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (code ${code}) before it was ready:\n${started.output}`));
      });
    });
    return { process: started, line };
  }

  /** Asks the process to stop (SIGTERM, as a process manager does) and waits for it; SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const hung = setTimeout(() => this.child.kill('SIGKILL'), READY_TIMEOUT_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(hung);
    }
  }
}
