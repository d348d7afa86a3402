import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** Repository root (tests run with it as the working directory). */
export const ROOT = resolve('.');
/** The built demo, as `npm start` runs it. */
export const DEMO_MAIN = join(ROOT, 'dist/main.js');
/** The built CLI, as `bin.twitch-auth` in package.json points at it. */
export const CLI_PATH = join(ROOT, 'dist/cli/main.js');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

let building: Promise<void> | null = null;

/**
 * Makes sure `dist/` holds the current sources for tests that run the built
 * demo or CLI as child processes: `npm test` builds first; a direct `jest`
 * run builds here when dist is missing or older than src. tsc still emits on
 * type errors; `npm test`'s build step is the gate, this only needs fresh JavaScript.
 */
export function ensureBuilt(): Promise<void> {
  building ??= build();
  return building;
}

async function build(): Promise<void> {
  const newest = newestSourceMtime(join(ROOT, 'src'));
  if ([DEMO_MAIN, CLI_PATH].every((file) => existsSync(file) && statSync(file).mtimeMs >= newest)) return;
  const started = Date.now();
  try {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      timeout: 180_000,
    });
  } catch (error) {
    const { stdout = '' } = error as { stdout?: string };
    if (!existsSync(DEMO_MAIN) || statSync(DEMO_MAIN).mtimeMs < started - 1_000) {
      throw new Error(`Building dist/ failed (npx tsc -p tsconfig.build.json):\n${stdout}`);
    }
    console.warn(`tsc reported errors while building dist/ for the tests:\n${stdout}`);
  }
}
