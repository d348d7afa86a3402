import { spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { failurePage, successPage } from '../twitch-auth/oauth/oauth.pages.js';
import { RedirectUriMismatchError, type TokenInfo, type TokenService } from '../twitch-auth/index.js';
import { CliError, CliInterruptedError } from './cli.errors.js';
import type { CliOutput } from './token-commands.js';

/** What the browser login needs besides the TokenService. */
export interface BrowserLoginOptions {
  scopes: string[];
  /** Loopback URL Twitch redirects to, e.g. `http://localhost:17563/callback`; registered at Twitch. */
  redirectUri: string;
  /** Open the system browser (else only print the URL). */
  open: boolean;
  timeoutSeconds: number;
  /** Cancels the wait (Ctrl+C). */
  signal: AbortSignal;
  output: CliOutput;
}

const LOOPBACK_HOSTS: Record<string, string[]> = { localhost: ['127.0.0.1', '::1'], '127.0.0.1': ['127.0.0.1'], '[::1]': ['::1'] };

/** Throws unless `redirectUri` is a plain-http loopback URL this machine can listen on. */
export function checkLoopbackRedirectUri(redirectUri: string): URL {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    throw new CliError(`The redirect URI "${redirectUri}" is not a URL.`, 2);
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS[url.hostname]) {
    throw new CliError(
      `The CLI receives Twitch's redirect on this machine, so the redirect URI must be http://localhost:<port>/<path>; got ${url.origin}${url.pathname}. Unset TWITCH_REDIRECT_URI or pass --port.`,
      2,
    );
  }
  return url;
}

/**
 * Browser login (authorization-code flow): listens on the loopback redirect
 * URI, sends the user's browser to Twitch with a random `state`, checks that
 * state on the way back, exchanges the code and stores the token.
 */
export async function loginWithBrowser(tokens: TokenService, options: BrowserLoginOptions): Promise<TokenInfo> {
  const target = checkLoopbackRedirectUri(options.redirectUri);
  const state = randomBytes(32).toString('base64url');
  const url = tokens.getAuthorizationUrl({ scopes: options.scopes, state });
  const receiver = new LoopbackReceiver(target, state, tokens);
  await receiver.listen();
  try {
    options.output.out('Open this URL in a browser to authorize:');
    options.output.out(`  ${url}`);
    if (options.open) openBrowser(url);
    options.output.err(
      `Waiting up to ${options.timeoutSeconds} s for Twitch to redirect to ${options.redirectUri} (this exact URL must be registered as an OAuth Redirect URL of the app in the Twitch developer console)...`,
    );
    return await receiver.result(options.timeoutSeconds * 1000, options.signal);
  } finally {
    await receiver.close();
  }
}

/** The loopback HTTP server that receives Twitch's redirect, once. */
class LoopbackReceiver {
  private readonly servers: Server[] = [];
  private handled = false;
  private settle: { resolve(info: TokenInfo): void; reject(error: Error): void } | null = null;
  private readonly outcome: Promise<TokenInfo>;

  constructor(
    private readonly target: URL,
    private readonly state: string,
    private readonly tokens: TokenService,
  ) {
    this.outcome = new Promise<TokenInfo>((resolve, reject) => (this.settle = { resolve, reject }));
    this.outcome.catch(() => undefined);
  }

  /** Listens on every loopback address of the redirect URI's host (both IPv4 and IPv6 for `localhost`). */
  async listen(): Promise<void> {
    const port = Number(this.target.port || 80);
    for (const host of LOOPBACK_HOSTS[this.target.hostname]!) {
      const server = createServer((req, res) => void this.onRequest(req, res));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => resolve());
        });
        this.servers.push(server);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // A machine without IPv6 still has 127.0.0.1.
        if (host === '::1' && this.servers.length > 0 && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
        await this.close();
        if (code === 'EADDRINUSE')
          throw new CliError(`Port ${port} is already in use: choose another with --port (and register that redirect URL at Twitch).`);
        throw new CliError(`Could not listen on ${host}:${port} for Twitch's redirect (${code ?? 'unknown error'}).`);
      }
    }
  }

  /** The stored token once the redirect arrived; rejects on decline, failure, timeout or cancel. */
  async result(timeoutMs: number, signal: AbortSignal): Promise<TokenInfo> {
    const timer = setTimeout(
      () =>
        this.settle?.reject(
          new CliError(`No authorization arrived within ${timeoutMs / 1000} s: run login again (or give more time with --timeout).`),
        ),
      timeoutMs,
    );
    const onAbort = () => {
      // Once the redirect arrived, the code is being exchanged and stored: that is short, and is let finish rather than cut in half.
      if (!this.handled) this.settle?.reject(new CliInterruptedError('the login was cancelled; nothing was stored.'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.outcome;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops listening and drops open connections (browsers keep them alive). */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.servers.length = 0;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.target);
    if (req.method !== 'GET' || url.pathname !== this.target.pathname)
      return send(res, 404, failurePage('Not found', 'This address only receives the Twitch redirect.', null));
    const state = url.searchParams.get('state') ?? '';
    if (!safeEqual(state, this.state)) {
      return send(
        res,
        400,
        failurePage('Unknown authorization', 'This redirect does not belong to the login waiting in the terminal.', null),
      );
    }
    if (this.handled) return send(res, 409, failurePage('Already done', 'This login was already handled; look at the terminal.', null));
    this.handled = true;
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error || !code) {
      const declined = error === 'access_denied';
      await send(
        res,
        declined ? 403 : 400,
        failurePage(declined ? 'Authorization declined' : 'Authorization failed', 'Nothing was stored. Look at the terminal.', null),
      );
      this.settle?.reject(
        new CliError(
          declined
            ? 'The authorization was declined on Twitch; nothing was stored.'
            : `Twitch answered without a code (${error && /^[a-z_]{1,64}$/.test(error) ? error : 'no usable error given'}); nothing was stored.`,
        ),
      );
      return;
    }
    try {
      const info = await this.tokens.exchangeCode(code);
      // The page is flushed before the settle lets the caller close the server.
      await send(res, 200, successPage(info));
      this.settle?.resolve(info);
    } catch (caught) {
      await send(res, 502, failurePage('Authorization failed', 'The code could not be exchanged; look at the terminal.', null));
      this.settle?.reject(
        caught instanceof RedirectUriMismatchError
          ? new CliError(
              `Twitch says the redirect URI does not match: register ${this.target.origin}${this.target.pathname} as an OAuth Redirect URL of the app, or choose another with --port.`,
            )
          : caught instanceof Error
            ? caught
            : new Error(String(caught)),
      );
    }
  }
}

/** Answers with a page; resolves once it is handed to the socket (or the socket is gone). */
function send(res: ServerResponse, status: number, html: string): Promise<void> {
  return new Promise((resolve) => {
    res.once('close', () => resolve());
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    res.end(html, () => resolve());
  });
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Opens the system browser; failure is fine, the URL is printed anyway. */
function openBrowser(url: string): void {
  const [command, args]: [string, string[]] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url.replaceAll('&', '^&')]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener on this machine: the printed URL is the fallback.
  }
}
