/**
 * twurple has no option for the identity server's address: `@twurple/api-call`
 * builds `https://id.twitch.tv/oauth2/<endpoint>` itself and calls the global
 * `fetch` (its only other switch, `TWURPLE_MOCK_API_PORT`, sends requests to
 * `http://localhost:<port>/auth/<endpoint>`, a layout FakeTwitch does not
 * serve). So the bench process wraps `globalThis.fetch`:
 *
 * - `https://id.twitch.tv/...` is rewritten to `<FakeTwitch origin>/...`,
 *   keeping path and query (`/oauth2/token?grant_type=refresh_token&...`);
 * - `https://api.twitch.tv/helix/...` likewise goes to FakeTwitch's `/helix/...`;
 * - any other address that is not loopback is refused, so a bench run never
 *   touches the network.
 *
 * Ours is configured with `twitch.idBaseUrl` = FakeTwitch and passes through
 * untouched (one `startsWith` check per request, in both contenders' process).
 */
const TWITCH_ID = 'https://id.twitch.tv';
const TWITCH_HELIX = 'https://api.twitch.tv/helix';
const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

let installed = false;

export function redirectTwitchToFake(fakeOrigin: string): void {
  if (installed) throw new Error('The fetch redirect is already installed in this process.');
  installed = true;
  const original = globalThis.fetch;
  const wrapped = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(`${TWITCH_ID}/`)) return original(fakeOrigin + url.slice(TWITCH_ID.length), init);
    if (url.startsWith(`${TWITCH_HELIX}/`)) return original(`${fakeOrigin}/helix${url.slice(TWITCH_HELIX.length)}`, init);
    if (!LOOPBACK.test(url))
      return Promise.reject(new Error(`bench: refused a request to a non-loopback address (${new URL(url).origin})`));
    return original(input, init);
  };
  globalThis.fetch = wrapped as typeof fetch;
}
