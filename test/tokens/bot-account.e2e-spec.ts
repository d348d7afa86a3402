import { resolveTwitchAuthOptions, ReauthorizationRequiredError, TwitchAuthConfigError } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, fakeOptions, type TestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { caught, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { decideAtTwitch, deliverCallback, startAuthorization } from '../oauth/oauth-client.js';

const BOT = { intent: 'chat', scopes: ['user:read:chat', 'user:write:chat'] };
const PROMPT = /^log Bot account for intent "chat": open (\S+) and enter code ([A-Z]+)(.*?) \(scopes: user:read:chat user:write:chat\)/;

/** Every prompt line logged so far by this file's apps. */
function prompts(): RegExpExecArray[] {
  return capturedLogs.map((line) => PROMPT.exec(line)).filter((match): match is RegExpExecArray => match !== null);
}

/** Resolves once `check` holds, asking again every few milliseconds; gives up after a few thousand asks so a failed test ends. */
async function eventually(check: () => boolean): Promise<void> {
  for (let asked = 0; !check(); asked++) {
    if (asked > 2_500) throw new Error('the awaited condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('A bot account in one line (the bot option)', () => {
  let fake: FakeTwitch;
  const dir = tempDir();
  let databases = 0;
  beforeAll(async () => {
    fake = await startFake({ deviceIntervalSeconds: 1 });
  });
  afterAll(async () => {
    await fake.close();
    dir.remove();
  });
  beforeEach(() => {
    capturedLogs.length = 0;
    fake.clearRequests();
  });

  it('empty store: one prompt, the device approved at Twitch, whenReady resolves with the token stored under the intent; a restart prompts nothing', async () => {
    const databaseUrl = `sqlite:${dir.path}/bot-${++databases}.sqlite`;
    const user = fake.addUser({ login: 'onelinebot' });
    let t: TestApp = await createTestApp({ fake, databaseUrl, options: { bot: BOT, oauth: { enabled: false } } });
    try {
      const ready = t.tokens.whenReady('chat');
      await eventually(() => prompts().length > 0);
      const [prompt] = prompts();
      expect(prompt![3]).toBe('');
      fake.approveDevice(prompt![2]!, user.userId);
      const info = await ready;
      expect(info).toMatchObject({ userId: user.userId, intents: ['chat'], status: 'valid' });
      expect((await t.tokens.getTokenForIntent('chat', BOT.scopes)).userId).toBe(user.userId);
      await eventually(() => t.events.some((event) => event.name === 'twitch.bot.ready'));
      expect(t.events.filter((event) => event.name === 'twitch.bot.ready')).toEqual([
        { name: 'twitch.bot.ready', payload: { intent: 'chat', info: expect.objectContaining({ userId: user.userId }) } },
      ]);
      expect(prompts()).toHaveLength(1);
      expect(fake.countRequests({ path: '/oauth2/device' })).toBe(1);
    } finally {
      await t.close();
    }

    capturedLogs.length = 0;
    fake.clearRequests();
    t = await createTestApp({ fake, databaseUrl, options: { bot: BOT, oauth: { enabled: false } } });
    try {
      expect((await t.tokens.whenReady('chat')).userId).toBe(user.userId);
      // Logged during boot, before any prompt could be: its presence proves the boot check found the stored token.
      expect(capturedLogs).toContain(
        `log Bot account for intent "chat": the stored token of user ${user.userId} holds every scope. TwitchAuth`,
      );
      expect(prompts()).toHaveLength(0);
      expect(fake.countRequests({ path: '/oauth2/device' })).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('a stored token that loses its grant prompts again, and the new grant makes the intent ready again', async () => {
    const user = fake.addUser({ login: 'losesgrant' });
    const issued = fake.issueToken({ userId: user.userId, scopes: BOT.scopes });
    const databaseUrl = `sqlite:${dir.path}/bot-${++databases}.sqlite`;
    const seeded = await createTestApp({ fake, databaseUrl, options: { oauth: { enabled: false } } });
    await seeded.tokens.addUser(issued.accessToken, issued.refreshToken, { intents: ['chat'] });
    await seeded.close();

    const t = await createTestApp({ fake, databaseUrl, options: { bot: BOT, oauth: { enabled: false } } });
    try {
      expect(capturedLogs).toContain(
        `log Bot account for intent "chat": the stored token of user ${user.userId} holds every scope. TwitchAuth`,
      );
      expect(prompts()).toHaveLength(0);
      fake.revokeUser(user.userId);
      expect(await caught(t.tokens.validate(user.userId))).toBeInstanceOf(ReauthorizationRequiredError);
      await eventually(() => prompts().length > 0);
      const ready = t.tokens.whenReady('chat');
      fake.approveDevice(prompts()[0]![2]!, user.userId);
      expect(await ready).toMatchObject({ userId: user.userId, status: 'valid', intents: ['chat'] });
      expect(prompts()).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('with the OAuth routes mounted the prompt also gives the sign-in link, and a sign-in there makes the bot ready', async () => {
    const t = await createTestApp({ fake, listen: true, options: { bot: BOT, redirectUri: 'http://127.0.0.1:3999/oauth/callback' } });
    try {
      const ready = t.tokens.whenReady('chat');
      await eventually(() => prompts().length > 0);
      expect(prompts()[0]![3]).toBe(', or sign in at http://127.0.0.1:3999/oauth?set=bot');
      const started = await startAuthorization(t.url, 'set=bot');
      const answer = await deliverCallback(t.url, await decideAtTwitch(started.location!), started.cookie);
      expect(answer.status).toBe(200);
      expect(await ready).toMatchObject({ userId: fake.browserUser.userId, intents: ['chat'], scopes: BOT.scopes });
      expect(t.events.filter((event) => event.name === 'twitch.bot.ready')).toHaveLength(1);
    } finally {
      await t.close();
    }
    expect(prompts()).toHaveLength(1);
  });

  it('an expired code is replaced with a new prompt, at most 6 in a row, then one error says to restart', async () => {
    const shortLived = await startFake({ deviceIntervalSeconds: 1, deviceCodeTtlSeconds: 1 });
    const t = await createTestApp({ fake: shortLived, options: { bot: BOT, oauth: { enabled: false } } });
    try {
      await eventually(() => capturedLogs.some((line) => line.startsWith('error Bot account')));
      expect(prompts()).toHaveLength(6);
      expect(capturedLogs.filter((line) => line.startsWith('error Bot account'))).toEqual([
        expect.stringMatching(/no grant, 6 codes went unused .*Restart the application to be asked again/),
      ]);
      expect(shortLived.countRequests({ path: '/oauth2/device' })).toBe(6);
    } finally {
      await t.close();
      await shortLived.close();
    }
  });

  it('app.close() during a prompt ends the wait: whenReady rejects, and nothing is stored', async () => {
    const t = await createTestApp({ fake, options: { bot: BOT, oauth: { enabled: false } } });
    const ready = t.tokens.whenReady('chat');
    await eventually(() => prompts().length > 0);
    await t.close();
    expect((await caught(ready)).message).toMatch(/shut down before a token for this intent was ready/);
    expect(await t.repository.findByIntent('chat')).toBeNull();
    expect(prompts()).toHaveLength(1);
  });

  it('whenReady works for any intent, and gives up on its signal', async () => {
    const t = await createTestApp({ fake });
    try {
      const user = fake.addUser({ login: 'anyintent' });
      const issued = fake.issueToken({ userId: user.userId, scopes: ['chat:read'] });
      const ready = t.tokens.whenReady('moderation');
      const controller = new AbortController();
      const abandoned = t.tokens.whenReady('other', { signal: controller.signal });
      await t.tokens.addUser(issued.accessToken, issued.refreshToken);
      await t.tokens.addIntents(user.userId, ['moderation']);
      expect((await ready).userId).toBe(user.userId);
      controller.abort(new Error('not needed any more'));
      expect((await caught(abandoned)).message).toBe('not needed any more');
    } finally {
      await t.close();
    }
  });

  it('the option is checked at startup', () => {
    const resolve = (bot: unknown) => () => resolveTwitchAuthOptions(fakeOptions(fake, { bot: bot as typeof BOT }));
    expect(resolve({ intent: '', scopes: [] })).toThrow(TwitchAuthConfigError);
    expect(resolve({ intent: 'chat', scopes: ['not a scope'] })).toThrow(/bot\.scopes contains "not a scope"/);
    expect(resolve({ intent: 'chat' })).toThrow(/bot\.scopes must be an array/);
    expect(resolveTwitchAuthOptions(fakeOptions(fake, { bot: BOT })).oauth.scopeSets.bot).toEqual(BOT.scopes);
  });
});
