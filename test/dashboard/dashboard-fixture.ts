import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { TokenRepository, TokenService } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';

/** The header the test guard wants; a stand-in for the app's real authentication. */
export const ADMIN_HEADER = { 'x-test-admin': 'yes' };

/** Lets a request through only with `ADMIN_HEADER`. */
@Injectable()
export class TestAdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return request.headers['x-test-admin'] === 'yes';
  }
}

/** A login an attacker chose: it must come out escaped. */
export const HOSTILE_LOGIN = '<img src=x onerror="alert(1)">';

/** The users seeded in each state, by name. */
export interface SeededUsers {
  valid: string;
  expiring: string;
  failing: string;
  reauth: string;
  hostile: string;
}

/**
 * Stores one token per dashboard state: valid, expiring within the hour,
 * failing (transient failures, backed off), needing re-authorization, and
 * one whose login is hostile markup.
 */
export async function seedTokens(fake: FakeTwitch, tokens: TokenService, repository: TokenRepository): Promise<SeededUsers> {
  const add = async (login: string, expiresInSeconds?: number): Promise<string> => {
    const user = fake.addUser({ login });
    const issued = fake.issueToken({ userId: user.userId, scopes: ['chat:read'], expiresInSeconds });
    await tokens.addUser(issued.accessToken, issued.refreshToken);
    return user.userId;
  };
  const valid = await add('valid_user');
  const expiring = await add('expiring_user', 1800);
  const failing = await add('failing_user');
  await repository.update(failing, { failureCount: 2, retryAt: Date.now() + 10 * 60_000 });
  const reauth = await add('reauth_user');
  await repository.update(reauth, { status: 'reauth_required' });
  const hostileUser = fake.addUser({ login: 'hostile' });
  const issued = fake.issueToken({ userId: hostileUser.userId, scopes: ['chat:read'] });
  await tokens.addToken(hostileUser.userId, issued.accessToken, issued.refreshToken, ['chat:read'], {
    login: HOSTILE_LOGIN,
    expiresAt: new Date(Date.now() + 4 * 3600_000),
  });
  return { valid, expiring, failing, reauth, hostile: hostileUser.userId };
}
