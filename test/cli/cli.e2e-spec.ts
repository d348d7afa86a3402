import { existsSync, statSync } from 'node:fs';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { decideAtTwitch } from '../oauth/oauth-client.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { ensureBuilt, runCli, startCli, type CliResult, cliEnvironment } from './cli-runner.js';
import { freePort } from '../support/net.js';

/** No stack trace, no Nest log line: what a user sees is one clear message. */
function expectCleanFailure(result: CliResult, code: number, message: RegExp) {
  expect(result.code).toBe(code);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr + result.stdout).not.toMatch(/\[Nest\]|ExceptionHandler/);
}

describe('twitch-auth CLI (node dist/cli/main.js against FakeTwitch)', () => {
  let fake: FakeTwitch;
  const dir = tempDir('twitch-auth-cli-');
  let env: Record<string, string>;

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFake({ deviceIntervalSeconds: 1 });
    env = cliEnvironment(fake, `${dir.path}/cli.sqlite`);
  }, 200_000);
  afterAll(async () => {
    await fake?.close();
    dir.remove();
  });

  const cli = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, { ...env, ...extraEnv }, dir.path);

  it.each([[[]], [['login']], [['list']], [['validate']], [['refresh']], [['revoke']]])(
    '%j --help prints usage and exits 0',
    async (command) => {
      const result = await runCli([...command, '--help'], {}, dir.path);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: twitch-auth/);
      if (command[0] === 'login') expect(result.stdout).toContain('http://localhost:17563/callback');
    },
  );

  it('without TWITCH_CLIENT_ID: exit 2 with a clear message, and no database is created', async () => {
    const { TWITCH_CLIENT_ID: _omitted, ...rest } = env;
    const result = await runCli(['list'], { ...rest, DATABASE_URL: `sqlite:${dir.path}/never.sqlite` }, dir.path);
    expectCleanFailure(result, 2, /^error: TWITCH_CLIENT_ID is not set/);
    expect(existsSync(`${dir.path}/never.sqlite`)).toBe(false);
  });

  it('list on an empty database says how to add a token; list --json prints []', async () => {
    const table = await cli(['list']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toContain('No tokens stored');
    const json = await cli(['list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('creates a missing database private to its owner: folders 0700, the SQLite file and any -wal/-shm 0600', async () => {
    const file = `${dir.path}/fresh/data/cli.sqlite`;
    const result = await cli(['list'], { DATABASE_URL: `sqlite:${file}` });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect([mode(`${dir.path}/fresh`), mode(`${dir.path}/fresh/data`), mode(file)]).toEqual([0o700, 0o700, 0o600]);
    // SQLite removes -wal and -shm when the last connection closes; any left behind must be private too.
    for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) expect(mode(extra)).toBe(0o600);
  });

  it('login --device prints the code, completes when the user approves, and stores the token', async () => {
    const running = startCli(['login', '--device', '--scopes', 'chat:read,chat:edit'], env, dir.path);
    const [, userCode] = await running.waitForOutput(/enter the code: ([A-Z]+)/);
    expect((await running.waitForOutput(/open (\S+)/))[1]).toContain('/activate');
    fake.approveDevice(userCode!);
    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Stored the token of ${fake.browserUser.login} (user id ${fake.browserUser.userId}) with scopes: chat:read chat:edit`,
    );
    expect(result.stderr).toMatch(/Waiting for approval \(\d\d:\d\d left\)/);
  });

  it('list prints the table with the stored user; --json the same facts; never a secret', async () => {
    const { userId, login } = fake.browserUser;
    const result = await cli(['list']);
    expect(result.code).toBe(0);
    const [header, row, ...rest] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^USER ID\s+LOGIN\s+SCOPES\s+EXPIRES IN\s+LAST VALIDATED\s+STATUS$/);
    expect(row).toMatch(new RegExp(`^${userId}\\s+${login}\\s+chat:read chat:edit\\s+(3h 59m|4h 0m)\\s+\\d+s ago\\s+valid$`));
    expect(rest).toEqual([]);
    const json = JSON.parse((await cli(['list', '--json'])).stdout) as Record<string, unknown>[];
    expect(json).toEqual([expect.objectContaining({ userId, login, scopes: ['chat:read', 'chat:edit'], status: 'valid' })]);
    expect(Object.keys(json[0]!)).not.toContain('accessToken');
  });

  it('validate (all and one), refresh, then revoke', async () => {
    const { userId, login } = fake.browserUser;
    const all = await cli(['validate']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`^valid\\s+${login} \\(user id ${userId}\\): expires in`, 'm'));
    expect((await cli(['validate', userId])).code).toBe(0);

    fake.clearRequests();
    const refreshed = await cli(['refresh', userId]);
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout).toMatch(/^Refreshed the token of .*; it expires in (3h 59m|4h 0m)\./);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);

    const revoked = await cli(['revoke', userId]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked the token of ${login} (user id ${userId}) at Twitch and removed it.`);
    expect(fake.countRequests({ path: '/oauth2/revoke', status: 200 })).toBe(1);
    expect(JSON.parse((await cli(['list', '--json'])).stdout)).toEqual([]);
  });

  it.each([['revoke'], ['refresh'], ['validate']])('%s of an unknown user: exit 1 with a clear message', async (command) => {
    expectCleanFailure(await cli([command, '424242']), 1, /^error: No token is stored for user 424242\. Run "twitch-auth list"/);
  });

  it('Twitch errors are reported in one line: a 500 when starting the device flow', async () => {
    fake.failNext('device', 1, 500);
    expectCleanFailure(await cli(['login', '--device']), 1, /^error: Twitch answered 500 on the device endpoint/);
  });

  it('device flow declined → exit 1 "declined"; nothing stored', async () => {
    const before = (await cli(['list', '--json'])).stdout;
    const running = startCli(['login', '--device', '--scopes', 'chat:read'], env, dir.path);
    const [, userCode] = await running.waitForOutput(/enter the code: ([A-Z]+)/);
    fake.denyDevice(userCode!);
    expectCleanFailure(await running.done, 1, /^error: The authorization was declined on Twitch; nothing was stored\./m);
    expect((await cli(['list', '--json'])).stdout).toBe(before);
  });

  it('device flow not approved in time → exit 1 naming the timeout', async () => {
    const started = Date.now();
    expectCleanFailure(await cli(['login', '--device', '--timeout', '1']), 1, /^error: No approval within 1 s/m);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('bad input is refused before anything happens: unknown scope, bad port, non-loopback TWITCH_REDIRECT_URI, no secret', async () => {
    expectCleanFailure(
      await cli(['login', '--device', '--scopes', 'chat read,CHAT']),
      2,
      /--scopes contains "CHAT", which is not a Twitch scope/,
    );
    expectCleanFailure(await cli(['login', '--port', '99999']), 2, /expected a port number/);
    expectCleanFailure(
      await cli(['login'], { TWITCH_REDIRECT_URI: 'https://bot.example.com/oauth/callback' }),
      2,
      /must be http:\/\/localhost:<port>/,
    );
    expectCleanFailure(
      await cli(['login'], { TWITCH_CLIENT_SECRET: '' }),
      2,
      /browser login needs TWITCH_CLIENT_SECRET \(it exchanges the code\); public clients log in with --device/,
    );
  });

  it('validate reports a token revoked at Twitch: exit 1, an INVALID line, and list shows reauth_required', async () => {
    const user = fake.addUser({ login: 'revoked_bot' });
    fake.setBrowserUser(user.userId);
    try {
      const running = startCli(['login', '--device', '--scopes', 'chat:read'], env, dir.path);
      const [, userCode] = await running.waitForOutput(/enter the code: ([A-Z]+)/);
      fake.approveDevice(userCode!);
      expect((await running.done).code).toBe(0);
    } finally {
      fake.setBrowserUser(fake.defaultUser.userId);
    }
    fake.revokeUser(user.userId);
    const result = await cli(['validate']);
    expectCleanFailure(result, 1, /^error: 1 of \d+ tokens failed validation\./m);
    expect(result.stdout).toMatch(new RegExp(`^INVALID\\s+user ${user.userId}: The token of user ${user.userId} was revoked`, 'm'));
    expect((await cli(['list'])).stdout).toMatch(new RegExp(`^${user.userId}\\s+revoked_bot\\s.*reauth_required$`, 'm'));
    expect((await cli(['revoke', user.userId])).code).toBe(0);
  });

  it('browser login: the loopback server ignores a foreign redirect, then stores the token from the real one', async () => {
    const port = await freePort();
    const running = startCli(['login', '--no-open', '--port', String(port), '--scopes', 'chat:read', '--timeout', '30'], env, dir.path);
    const [, authorizeUrl] = await running.waitForOutput(/^ {2}(http\S+)$/m);
    expect(new URL(authorizeUrl!).searchParams.get('redirect_uri')).toBe(`http://localhost:${port}/callback`);

    const foreign = await fetch(`http://127.0.0.1:${port}/callback?code=x&state=not-the-one`);
    expect(foreign.status).toBe(400);

    const redirect = await decideAtTwitch(authorizeUrl!);
    expect(redirect.origin).toBe(`http://localhost:${port}`);
    const landing = await fetch(redirect);
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain('Twitch account connected');

    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Stored the token of ${fake.browserUser.login} (user id ${fake.browserUser.userId}) with scopes: chat:read`,
    );
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'authorization_code' })).toBe(1);
  });
});

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}
