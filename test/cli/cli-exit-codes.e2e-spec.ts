import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { ensureBuilt, runCli, startCli, type CliResult, cliEnvironment } from './cli-runner.js';

/** Exactly one line on stderr, nothing on stdout, no stack trace, no Nest log. */
function expectOneLine(result: CliResult, code: number, message: RegExp) {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  expect(result.stderr.split('\n').filter((line) => line !== '')).toEqual([expect.stringMatching(message)]);
  expect(result.stderr).not.toMatch(/\[Nest\]|ExceptionHandler|^\s+at /m);
}

describe('twitch-auth CLI exit codes and Ctrl+C (node dist/cli/main.js against FakeTwitch)', () => {
  let fake: FakeTwitch;
  const dir = tempDir('twitch-auth-cli-exit-');
  let env: Record<string, string>;
  const cli = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, { ...env, ...extraEnv }, dir.path);

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFake({ deviceIntervalSeconds: 1 });
    env = cliEnvironment(fake, `${dir.path}/cli.sqlite`);
  }, 200_000);
  afterAll(async () => {
    await fake?.close();
    dir.remove();
  });

  describe('usage errors exit 2 with one line on stderr', () => {
    it.each([
      [['frobnicate'], /^error: unknown command 'frobnicate' \(see twitch-auth --help\)$/],
      [['list', '--bogus'], /^error: unknown option '--bogus'/],
      [['--bogus'], /^error: unknown option '--bogus'/],
      [['refresh'], /^error: missing required argument 'userId'/],
      [['revoke'], /^error: missing required argument 'userId'/],
      [['validate', '1', '2'], /^error: too many arguments for 'validate'/],
      [['login', '--port', '99999'], /^error: option '--port <port>' argument '99999' is invalid\. expected a port number/],
      [['login', '--timeout', '-1'], /^error: option '--timeout <seconds>' argument '-1' is invalid/],
      [['login', '--scopes'], /^error: option '--scopes <list>' argument missing/],
      [['login', '--device', '--scopes', 'chat read,CHAT'], /^error: --scopes contains "CHAT", which is not a Twitch scope/],
    ])('%j', async (args, message) => {
      expectOneLine(await cli(args), 2, message);
    });

    it('no command at all prints the help on stderr and exits 2; --help and --version exit 0', async () => {
      const bare = await cli([]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/^Usage: twitch-auth/);
      expect((await cli(['--version'])).code).toBe(0);
      const help = await cli(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(
        /^Exit codes:\n {2}0 {4}success\n {2}1 {4}the operation failed.*\n {2}2 {4}usage or configuration error.*\n {2}130 {2}interrupted/m,
      );
    });
  });

  describe('configuration errors exit 2 with one line on stderr, and nothing secret', () => {
    it('a DATABASE_URL of an unsupported database (the password in it is never printed)', async () => {
      guardSecret('hunter2-db-password');
      expectOneLine(
        await cli(['list'], { DATABASE_URL: 'mysql://bot:hunter2-db-password@db.example/twitch' }),
        2,
        /^error: DATABASE_URL must start with "sqlite:".*the "mysql:" scheme is not supported\.$/,
      );
    });

    it('a malformed TWITCH_AUTH_ENCRYPTION_KEY (the key is never printed)', async () => {
      const key = 'not-a-32-byte-key-but-still-secret';
      guardSecret(key);
      const result = await cli(['list'], { TWITCH_AUTH_ENCRYPTION_KEY: key });
      expectOneLine(result, 2, /^error: encryptionKey must be 32 random bytes/);
      expect(result.stderr).not.toContain(key);
    });

    it('a TWITCH_ID_BASE_URL that is not http(s)', async () => {
      expectOneLine(
        await cli(['list'], { TWITCH_ID_BASE_URL: 'ftp://id.example' }),
        2,
        /^error: twitch\.idBaseUrl must be an http\(s\) URL/,
      );
    });

    it('missing TWITCH_CLIENT_ID', async () => {
      const { TWITCH_CLIENT_ID: _omitted, ...rest } = env;
      expectOneLine(await runCli(['validate'], rest, dir.path), 2, /^error: TWITCH_CLIENT_ID is not set/);
    });
  });

  describe('the first Ctrl+C stops validate, refresh and revoke while Twitch is slow', () => {
    let userId: string;

    beforeAll(async () => {
      const running = startCli(['login', '--device', '--scopes', 'chat:read'], env, dir.path);
      const [, userCode] = await running.waitForOutput(/enter the code: ([A-Z]+)/);
      fake.approveDevice(userCode!);
      expect((await running.done).code).toBe(0);
      userId = fake.browserUser.userId;
    }, 60_000);

    /** Starts the command, sends SIGINT once FakeTwitch holds its request unanswered, and returns the result. */
    async function interrupt(args: string[], heldRequests: () => number): Promise<CliResult> {
      const running = startCli(args, env, dir.path);
      let exited = false;
      void running.done.then(() => (exited = true));
      // Wait (polling) until the request is held at FakeTwitch: the command is now waiting on Twitch.
      while (heldRequests() === 0 && !exited) await new Promise((resolve) => setTimeout(resolve, 20));
      if (exited) throw new Error(`${args.join(' ')} exited before reaching FakeTwitch: ${JSON.stringify(await running.done)}`);
      running.kill('SIGINT');
      return running.done;
    }

    /** The stored token is the one from the login: still valid at Twitch, still working for a later command. */
    async function expectTokenIntact(): Promise<void> {
      const listed = JSON.parse((await cli(['list', '--json'])).stdout) as { userId: string; status: string }[];
      expect(listed).toEqual([expect.objectContaining({ userId, status: 'valid' })]);
      expect((await cli(['validate', userId])).code).toBe(0);
    }

    it('validate: exit 130, one line saying the token was not validated and is unchanged; no retry was sent', async () => {
      fake.clearRequests();
      fake.failNext('validate', 1, 'timeout');
      const result = await interrupt(['validate'], () => fake.countRequests({ path: '/oauth2/validate' }));
      expectOneLine(
        result,
        130,
        new RegExp(
          `^Interrupted: 0 of 1 token\\(s\\) checked \\(results above\\); user ${userId} was not validated \\(no answer from Twitch yet\\) and is stored unchanged\\.$`,
        ),
      );
      expect(fake.countRequests({ path: '/oauth2/validate' })).toBe(1);
      await expectTokenIntact();
    });

    it('refresh: exit 130, one line saying nothing was refreshed; the refresh token was not used up', async () => {
      fake.clearRequests();
      fake.failNext('token', 1, 'timeout', { grantType: 'refresh_token' });
      const refreshes = () => fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' });
      const result = await interrupt(['refresh', userId], refreshes);
      expectOneLine(
        result,
        130,
        new RegExp(
          `^Interrupted: the token of user ${userId} was not refreshed: no answer from Twitch had arrived, so the stored token is unchanged\\.`,
        ),
      );
      expect(refreshes()).toBe(1);
      await expectTokenIntact();
      // The stored refresh token still works, once: the interrupted request left nothing half-done.
      expect((await cli(['refresh', userId])).code).toBe(0);
      expect(fake.reusedRefreshTokens).toHaveLength(0);
    });

    it('revoke: exit 130, one line saying the token is still stored; it still works', async () => {
      fake.clearRequests();
      fake.failNext('revoke', 1, 'timeout');
      const result = await interrupt(['revoke', userId], () => fake.countRequests({ path: '/oauth2/revoke' }));
      expectOneLine(
        result,
        130,
        new RegExp(`^Interrupted: Twitch had not confirmed the revocation of user ${userId}'s token, so it is still stored`),
      );
      await expectTokenIntact();
    });
  });
});
