import { EventSubSender } from '../../src/twitch-auth/testing/index.js';
import { ensureBuilt } from '../support/build.js';
import { DemoProcess, killAllDemos } from '../support/demo-process.js';
import { guardSecret } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

const SECRET = 'demo-eventsub-secret-0123456789';
guardSecret(SECRET);

/** The demo with TWITCH_EVENTSUB_SECRET set: its receiver is mounted and answers Twitch. */
describe('the demo app with TWITCH_EVENTSUB_SECRET', () => {
  const dir = tempDir();
  let demo: DemoProcess;

  beforeAll(async () => {
    await ensureBuilt();
    demo = await DemoProcess.start(
      'eventsub',
      { DATABASE_URL: `sqlite:${dir.path}/demo.sqlite`, TWITCH_EVENTSUB_SECRET: SECRET },
      dir.path,
    );
  }, 120_000);
  afterAll(async () => {
    await killAllDemos();
    dir.remove();
  });

  it("answers Twitch's signed callback verification with the challenge", async () => {
    const sender = new EventSubSender({ callbackUrl: `${demo.url}/eventsub/callback`, secret: SECRET });
    const answer = await sender.challenge({ challenge: 'demo-challenge-42' });
    expect([answer.status, answer.body]).toEqual([200, 'demo-challenge-42']);
    const forged = await sender.challenge({ challenge: 'x', secret: 'not-the-demo-secret' });
    expect(forged.status).toBe(403);
  });

  it('logs each notification in one line, type and message id, never the event', async () => {
    const sender = new EventSubSender({ callbackUrl: `${demo.url}/eventsub/callback`, secret: SECRET });
    const login = 'payload_login_never_logged';
    const { status, messageId } = await sender.notification('channel.follow', {
      user_id: '1234',
      user_login: login,
      user_name: 'PayloadName',
      broadcaster_user_id: '5678',
      broadcaster_user_login: 'caster',
      broadcaster_user_name: 'Caster',
      followed_at: new Date().toISOString(),
    });
    expect(status).toBe(204);
    const line = `EventSub notification channel.follow (message ${messageId}).`;
    for (const deadline = Date.now() + 30_000; !demo.output.includes(line) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(demo.output.split('\n').filter((l) => l.includes(line))).toHaveLength(1);
    expect(demo.output).not.toContain(login);
  });
});
