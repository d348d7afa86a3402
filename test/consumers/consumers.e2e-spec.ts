import { join } from 'node:path';
import { ensureBuilt } from '../support/build.js';
import { freePort } from '../support/net.js';
import { tempDir } from '../support/temp.js';
import { decideAtTwitch, deliverCallback, pageText, startAuthorization } from '../oauth/oauth-client.js';
import { ConsumerProcess, packPackage, prepareConsumer } from './consumer-app.js';

/** What the consumer's `dist/fake-twitch.js` (FakeTwitch from `nestjs-twitch-auth/testing`) prints when it listens. */
interface FakeTwitchAnnouncement {
  idBaseUrl: string;
  helixBaseUrl: string;
  clientId: string;
  clientSecret: string;
  browserUser: { userId: string; login: string };
}

/**
 * The package as users get it: `npm pack`, then fresh apps in the layouts
 * `nest new` generates install the tarball next to their own locked
 * dependencies, compile with their own TypeScript, boot with
 * `TwitchAuthModule.forRoot` and complete an OAuth flow against FakeTwitch
 * (started from the package's `testing` entry). Nest 11 apps are CommonJS and
 * load this ES-module package through Node's `require(esm)`.
 */
const CONSUMERS = [
  { fixture: 'nest12-esm', nest: '12', moduleSystem: 'ES modules' },
  { fixture: 'nest11-cjs', nest: '11', moduleSystem: 'CommonJS' },
] as const;

const workspace = tempDir('twitch-auth-consumers-');
const prepared = new Map<string, Promise<string>>();

beforeAll(async () => {
  await ensureBuilt();
  const tarball = await packPackage(workspace.path);
  // Both installs at once: most of their time is waiting on the npm cache or registry.
  for (const { fixture } of CONSUMERS) {
    const directory = join(workspace.path, fixture);
    prepared.set(
      fixture,
      prepareConsumer(fixture, directory, tarball).then((timings) => {
        console.log(timings);
        return directory;
      }),
    );
  }
  await Promise.allSettled(prepared.values());
}, 900_000);

afterAll(() => workspace.remove());

describe.each(CONSUMERS)('a fresh Nest $nest app ($moduleSystem) with the packed package', ({ fixture }) => {
  const running: ConsumerProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((child) => child.stop()));
  });

  it('boots with TwitchAuthModule.forRoot and stores the token of an OAuth flow against FakeTwitch', async () => {
    const directory = await prepared.get(fixture)!;
    const fake = await ConsumerProcess.start(directory, 'dist/fake-twitch.js', /^\{/);
    running.push(fake.process);
    const twitch = JSON.parse(fake.line) as FakeTwitchAnnouncement;

    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const app = await ConsumerProcess.start(directory, 'dist/main.js', /^listening on /, {
      PORT: String(port),
      TWITCH_CLIENT_ID: twitch.clientId,
      TWITCH_CLIENT_SECRET: twitch.clientSecret,
      TWITCH_REDIRECT_URI: `${appUrl}/oauth/callback`,
      TWITCH_ID_BASE_URL: twitch.idBaseUrl,
      TWITCH_HELIX_BASE_URL: twitch.helixBaseUrl,
    });
    running.push(app.process);

    const started = await startAuthorization(appUrl);
    expect(started.status).toBe(302);
    const redirect = await decideAtTwitch(started.location!);
    const answer = await deliverCallback(appUrl, redirect, started.cookie);
    expect(answer.status).toBe(200);
    expect(pageText(answer.html)).toContain(
      `${twitch.browserUser.login} (user id ${twitch.browserUser.userId}) authorized this application`,
    );

    const tokens = (await (await fetch(`${appUrl}/tokens`)).json()) as Array<{ userId: string; login: string; scopes: string[] }>;
    expect(tokens).toEqual([
      expect.objectContaining({
        userId: twitch.browserUser.userId,
        login: twitch.browserUser.login,
        scopes: ['chat:read', 'user:read:email'],
      }),
    ]);
  });
});
