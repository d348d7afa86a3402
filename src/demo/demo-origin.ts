import type { NextFunction, Request, Response } from 'express';

/** Host names that reach this machine's loopback interface. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The port and host the demo listens on: `PORT` (3000) and `HOST` (127.0.0.1). */
export function demoListenAddress(env: NodeJS.ProcessEnv = process.env): { port: number; host: string } {
  return { port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' };
}

/**
 * The OAuth redirect URI the demo uses: `TWITCH_REDIRECT_URI`, or
 * `http://localhost:PORT/oauth/callback`. Twitch accepts plain `http` only
 * for `localhost`, so that is the default host, whatever `HOST` is.
 */
export function demoRedirectUri(env: NodeJS.ProcessEnv = process.env): string {
  return env.TWITCH_REDIRECT_URI ?? `http://localhost:${demoListenAddress(env).port}/oauth/callback`;
}

/**
 * The URL a person should open. The OAuth state cookie is set on the host the
 * page was opened at and must come back to the redirect URI's host, so when
 * the redirect URI points at this demo (a loopback name, same port), the
 * demo's address is the redirect URI's origin. Otherwise it is the listen
 * address, and the callback is served elsewhere (a proxy or tunnel in front).
 */
export function demoPublicOrigin(env: NodeJS.ProcessEnv = process.env): { origin: string; callbackHere: boolean } {
  const { port, host } = demoListenAddress(env);
  const redirect = new URL(demoRedirectUri(env));
  const redirectPort = Number(redirect.port || (redirect.protocol === 'https:' ? 443 : 80));
  const loopbackListener = LOOPBACK_NAMES.has(host) || host === '0.0.0.0' || host === '::';
  if (redirect.protocol === 'http:' && LOOPBACK_NAMES.has(redirect.hostname) && redirectPort === port && loopbackListener) {
    return { origin: redirect.origin, callbackHere: true };
  }
  return { origin: `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`, callbackHere: false };
}

/**
 * Express middleware: a page asked for under another loopback name than the
 * redirect URI's (127.0.0.1 for localhost, say) is sent to the same path at
 * the redirect URI's origin, so the browser that starts an authorization is
 * the one its callback finds the cookie in.
 */
export function sameHostAsCallback(origin: string): (req: Request, res: Response, next: NextFunction) => void {
  const target = new URL(origin);
  return (req, res, next) => {
    const asked = req.headers.host;
    // Only page navigations (browsers ask for HTML); API calls, health checks and webhooks are answered where they arrive.
    const page = (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
    if (page && asked !== undefined && asked !== target.host) {
      const askedName = asked.replace(/:\d+$/, '');
      if (LOOPBACK_NAMES.has(askedName)) {
        res.redirect(302, `${target.origin}${req.originalUrl}`);
        return;
      }
    }
    next();
  };
}
