import { Injectable, UnauthorizedException, type CanActivate, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { TwitchAuthDashboardModule } from '../twitch-auth/index.js';
import { demoListenAddress } from './demo-origin.js';

/** Listen addresses only this machine can reach. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Lets a request through when it carries `DASHBOARD_TOKEN`, as a bearer
 * token or as the password of HTTP Basic authentication (any user name), so
 * a browser can open the page after a password prompt.
 */
@Injectable()
export class DashboardTokenGuard implements CanActivate {
  /** Compares digests, so neither the length nor the content of the token leaks through timing. */
  canActivate(context: ExecutionContext): boolean {
    const expected = process.env.DASHBOARD_TOKEN ?? '';
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const given = presentedToken(request.headers.authorization);
    if (expected !== '' && given !== null && timingSafeEqual(digest(given), digest(expected))) return true;
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    response.setHeader('WWW-Authenticate', 'Basic realm="twitch-auth dashboard", charset="UTF-8"');
    throw new UnauthorizedException('Give DASHBOARD_TOKEN as a bearer token or as the Basic authentication password.');
  }
}

/**
 * The demo's rule for its other read-only pages (`GET /tokens`): open when the
 * demo listens on loopback only, otherwise the same `DASHBOARD_TOKEN` as the
 * dashboard, so a reachable demo does not list its users to anyone.
 */
@Injectable()
export class DemoAccessGuard implements CanActivate {
  private readonly tokenGuard = new DashboardTokenGuard();

  /** Loopback listeners pass; others need `DASHBOARD_TOKEN`. */
  canActivate(context: ExecutionContext): boolean {
    return LOOPBACK_HOSTS.has(demoListenAddress(process.env).host) || this.tokenGuard.canActivate(context);
  }
}

function presentedToken(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return null;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The demo's dashboard on its home page: open when the demo listens on a
 * loopback address only (`HOST` 127.0.0.1, localhost or ::1), behind
 * `DASHBOARD_TOKEN` otherwise; without it a non-loopback demo does not start.
 * `notice` tells offline runs apart (the FakeTwitch flag is set at bootstrap,
 * after this module is built, hence a function).
 */
export function demoDashboard(env: NodeJS.ProcessEnv = process.env): DynamicModule {
  const { host } = demoListenAddress(env);
  const notice = () => (process.env.TWITCH_AUTH_DEMO_FAKE === '1' ? 'Offline mode: running against the bundled FakeTwitch.' : null);
  const common = { path: '/', authorizeSet: 'bot', notice };
  if (LOOPBACK_HOSTS.has(host)) return TwitchAuthDashboardModule.forRoot({ ...common, allowUnauthenticated: true });
  if ((env.DASHBOARD_TOKEN ?? '') === '') {
    throw new Error(
      `HOST is ${host}, which other machines can reach, and the demo's home page can refresh and revoke tokens: set DASHBOARD_TOKEN to a long random string (the page then asks for it as a password), or listen on HOST=127.0.0.1.`,
    );
  }
  return TwitchAuthDashboardModule.forRoot({ ...common, guard: DashboardTokenGuard });
}
