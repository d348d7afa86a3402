import { ReauthorizationRequiredError } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';

/** A row must only ever serve a token Twitch says belongs to that row's user. */
describe('a stored token that belongs to another user (TokenService.validate)', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it("user B's token stored under user A: validation refuses it and marks A reauth_required", async () => {
    const ofB = fake.issueToken({ userId: '7002', scopes: ['chat:read'] });
    await t.tokens.addToken('7001', ofB.accessToken, ofB.refreshToken, ['chat:read']);

    const error = await caught(t.tokens.validate('7001'));
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect((await t.tokens.getTokenInfo('7001'))?.status).toBe('reauth_required');
    // Once marked, the token is not served either.
    expect(await caught(t.tokens.getUserToken('7001'))).toBeInstanceOf(ReauthorizationRequiredError);
  });
});
