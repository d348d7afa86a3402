import { DEVICE_CODE_GRANT_TYPE, FakeTwitch } from './index.js';

type Body = Record<string, unknown>;

async function post(url: string, params: Record<string, string>, redirect: 'follow' | 'manual' = 'follow') {
  const res = await fetch(url, { method: 'POST', body: new URLSearchParams(params), redirect });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as Body) : null;
  return { status: res.status, body: json, text, headers: res.headers };
}

/** What a browser would post when a button of the page's form is clicked. */
function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1];
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[unescape(match[1])] = unescape(match[2]);
  }
  return { action, fields };
}

function unescape(text: string): string {
  return text.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

const REDIRECT = 'http://localhost:3000/oauth/callback';
let clock = 1_700_000_000_000;
let fake: FakeTwitch;

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = await FakeTwitch.start({ clientSecret: null, now: () => clock });
});
afterEach(() => fake.close());

describe('device-code flow', () => {
  const startFlow = (scopes: string) => post(`${fake.idBaseUrl}/oauth2/device`, { client_id: 'fake-client-id', scopes });
  const poll = (deviceCode: string) =>
    post(`${fake.idBaseUrl}/oauth2/token`, {
      client_id: 'fake-client-id',
      scopes: 'chat:read',
      device_code: deviceCode,
      grant_type: DEVICE_CODE_GRANT_TYPE,
    });

  it('starts with Twitch’s shape and refuses unknown clients', async () => {
    const answer = await startFlow('chat:read chat:edit');
    expect(answer.status).toBe(200);
    const body = answer.body!;
    expect(Object.keys(body)).toEqual(['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri']);
    expect(body).toMatchObject({ expires_in: 1800, interval: 5 });
    expect(body.user_code).toMatch(/^[A-Z]{8}$/);
    expect(body.verification_uri).toBe(`${fake.url}/activate?device-code=${body.user_code as string}`);
    expect(fake.lastDeviceCode).toMatchObject({
      userCode: body.user_code,
      deviceCode: body.device_code,
      scopes: ['chat:read', 'chat:edit'],
    });
    const unknown = await post(`${fake.idBaseUrl}/oauth2/device`, { client_id: 'nope', scopes: '' });
    expect(unknown.body).toEqual({ status: 400, message: 'invalid client' });
  });

  it('answers authorization_pending until approved, then tokens once (no secret needed)', async () => {
    const { device_code, user_code } = (await startFlow('chat:read')).body as Record<string, string>;
    expect((await poll(device_code)).body).toEqual({ status: 400, message: 'authorization_pending' });
    const viewer = fake.addUser({ login: 'viewer' });
    fake.approveDevice(user_code, viewer.userId);
    const granted = await poll(device_code);
    expect(granted.status).toBe(200);
    expect(Object.keys(granted.body!)).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(granted.body!.scope).toEqual(['chat:read']);
    expect(fake.tokenInfo(granted.body!.access_token as string)?.userId).toBe(viewer.userId);
    expect((await poll(device_code)).body).toEqual({ status: 400, message: 'invalid device code' });
  });

  it('leaves scope out when none were asked', async () => {
    const { device_code, user_code } = (await startFlow('')).body as Record<string, string>;
    fake.approveDevice(user_code);
    const granted = await poll(device_code);
    expect(granted.status).toBe(200);
    expect(granted.body).not.toHaveProperty('scope');
    expect(fake.tokenInfo(granted.body!.access_token as string)?.userId).toBe(fake.defaultUser.userId);
  });

  it('reports denial, expiry, slow_down and unknown codes', async () => {
    const denied = (await startFlow('chat:read')).body as Record<string, string>;
    fake.denyDevice(denied.user_code);
    expect((await poll(denied.device_code)).body).toEqual({ status: 400, message: 'access_denied' });

    const slow = (await startFlow('chat:read')).body as Record<string, string>;
    fake.slowDownNext(slow.user_code, 2);
    expect((await poll(slow.device_code)).body).toEqual({ status: 400, message: 'slow_down' });
    expect((await poll(slow.device_code)).body).toEqual({ status: 400, message: 'slow_down' });
    expect((await poll(slow.device_code)).body).toEqual({ status: 400, message: 'authorization_pending' });

    clock += 1800 * 1000;
    expect((await poll(slow.device_code)).body).toEqual({ status: 400, message: 'expired_token' });
    expect((await poll('nonsense')).body).toEqual({ status: 400, message: 'invalid device code' });
    expect(fake.deviceCodes.map((device) => device.status)).toEqual(['denied', 'pending']);
  });

  it('lets the browser user approve on the activation page', async () => {
    const { device_code, verification_uri } = (await startFlow('chat:read')).body as Record<string, string>;
    const page = await fetch(verification_uri);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('chat:read');
    const { action, fields } = formOf(html);
    const decision = await post(`${fake.url}${action}`, { ...fields, decision: 'authorize' });
    expect(decision.text).toContain('Device connected');
    expect((await poll(device_code)).status).toBe(200);
  });
});

describe('authorize page', () => {
  const authorizeUrl = (params: Record<string, string>) =>
    `${fake.idBaseUrl}/oauth2/authorize?${new URLSearchParams({
      client_id: 'fake-client-id',
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'chat:read user:read:email',
      ...params,
    }).toString()}`;
  const state = 'abc.DEF_123-~ "<&>';

  it('shows the app, user and scopes with Authorize and Cancel buttons', async () => {
    const res = await fetch(authorizeUrl({ state }));
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('fake-client-id');
    expect(html).toContain(fake.defaultUser.login);
    expect(html).toContain('<li>chat:read</li><li>user:read:email</li>');
    expect(html).toMatch(/<button type="submit" name="decision" value="authorize">Authorize<\/button>/);
    expect(html).toMatch(/<button type="submit" name="decision" value="cancel">Cancel<\/button>/);
    expect(formOf(html).fields.state).toBe(state);
  });

  it('Authorize redirects with a code, the scopes and the untouched state', async () => {
    const viewer = fake.addUser({ login: 'viewer' });
    fake.setBrowserUser(viewer.userId);
    const { action, fields } = formOf(await (await fetch(authorizeUrl({ state }))).text());
    const decision = await post(`${fake.url}${action}`, { ...fields, decision: 'authorize' }, 'manual');
    expect(decision.status).toBe(302);
    const location = new URL(decision.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('scope')).toBe('chat:read user:read:email');
    const exchange = await post(`${fake.idBaseUrl}/oauth2/token`, {
      client_id: 'fake-client-id',
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      redirect_uri: REDIRECT,
    });
    expect(exchange.status).toBe(200);
    expect(fake.tokenInfo(exchange.body!.access_token as string)).toMatchObject({
      userId: viewer.userId,
      scopes: ['chat:read', 'user:read:email'],
    });
  });

  it('Cancel redirects with access_denied and the state', async () => {
    const { action, fields } = formOf(await (await fetch(authorizeUrl({ state: 'xyz' }))).text());
    const decision = await post(`${fake.url}${action}`, { ...fields, decision: 'cancel' }, 'manual');
    expect(decision.status).toBe(302);
    expect(decision.headers.get('location')).toBe(`${REDIRECT}?error=access_denied&error_description=The+user+denied+you+access&state=xyz`);
  });

  it('shows an error page for unknown clients and unregistered redirect URIs', async () => {
    const unknown = await fetch(authorizeUrl({ client_id: 'other' }), { redirect: 'manual' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('invalid client');
    await fake.close();
    fake = await FakeTwitch.start({ redirectUris: [REDIRECT] });
    const elsewhere = await fetch(authorizeUrl({ redirect_uri: 'http://evil.example/cb' }), { redirect: 'manual' });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain('Parameter redirect_uri does not match registered URI');
  });
});
