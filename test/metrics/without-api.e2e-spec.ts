import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, ensureBuilt } from '../support/build.js';

const run = promisify(execFile);
const APP = join(ROOT, 'test/fixtures/metrics-app.mjs');
const HIDE_API = join(ROOT, 'test/fixtures/hide-opentelemetry-api.mjs');

/** Runs the fixture app on the built library; `hideApi` makes `@opentelemetry/api` unresolvable, as when it is not installed. */
async function runApp(hideApi: boolean): Promise<{ refreshed: boolean; metricsEnabled: boolean }> {
  const args = hideApi ? ['--import', HIDE_API, APP] : [APP];
  const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { refreshed: boolean; metricsEnabled: boolean };
}

describe('the module in a Node process where @opentelemetry/api cannot be found', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('loads, refreshes a token and turns its metrics off', async () => {
    expect(await runApp(true)).toEqual({ refreshed: true, metricsEnabled: false });
  });

  it('takes its meter from the API when the API is there', async () => {
    expect(await runApp(false)).toEqual({ refreshed: true, metricsEnabled: true });
  });
});
