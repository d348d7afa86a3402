import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { OAuthStateError, OAuthStateService, TokenService } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { decideAtTwitch, deliverCallback, startAuthorization } from './oauth-client.js';

/** The "own controller" example of docs/oauth.md, verbatim in substance. */
@Controller('auth/twitch')
class MyTwitchAuthController {
  constructor(
    private readonly tokens: TokenService,
    private readonly states: OAuthStateService,
  ) {}

  @Get()
  start(@Res() res: Response): void {
    const issued = this.states.issue({ returnTo: '/dashboard' });
    res.setHeader('Set-Cookie', issued.setCookie);
    res.redirect(302, this.tokens.getAuthorizationUrl({ scopes: ['chat:read'], state: issued.state }));
  }

  @Get('callback')
  async callback(
    @Query('code') code: string | undefined,
    @Query('state') state: string | undefined,
    @Headers('cookie') cookie: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const clear = this.states.clearCookie(state);
    if (clear) res.setHeader('Set-Cookie', clear);
    if (!code) {
      res.status(400).send('Twitch sent no code.');
      return;
    }
    try {
      const verified = await this.states.verify(state, cookie);
      await this.tokens.exchangeCode(code);
      res.redirect(302, verified.returnTo ?? '/');
    } catch (error) {
      if (!(error instanceof OAuthStateError)) throw error;
      res.status(403).send(error.message);
    }
  }
}

describe('own OAuth controller with OAuthStateService (built-in routes off)', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({
      fake,
      listen: true,
      controllers: [MyTwitchAuthController],
      options: { redirectUri: 'http://localhost:3000/auth/twitch/callback', oauth: { enabled: false } },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('the built-in routes are not mounted', async () => {
    expect((await fetch(`${t.url}/oauth`, { redirect: 'manual' })).status).toBe(404);
  });

  it('issues a bound state, verifies it once, and stores the token', async () => {
    const started = await startAuthorization(t.url, '', '/auth/twitch');
    expect(started.status).toBe(302);
    expect(started.setCookies[0]).toContain('Path=/auth/twitch/callback; HttpOnly; SameSite=Lax');
    const redirect = await decideAtTwitch(started.location!);
    expect(redirect.pathname).toBe('/auth/twitch/callback');

    const answer = await deliverCallback(t.url, redirect, started.cookie);
    expect(answer.status).toBe(302);
    expect(answer.location).toBe('/dashboard');
    expect(await t.tokens.getTokenInfo(fake.browserUser.userId)).toMatchObject({ scopes: ['chat:read'] });

    const replay = await deliverCallback(t.url, redirect, started.cookie);
    expect(replay.status).toBe(403);
    expect(replay.html).toMatch(/already completed/);
    const noCookie = await deliverCallback(t.url, redirect, null);
    expect(noCookie.status).toBe(403);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'authorization_code' })).toBe(1);
  });
});
