import {
  DeviceAccessDeniedError,
  DeviceCodeExpiredError,
  InvalidDeviceCodeError,
  TwitchAuthError,
  type DevicePollEvent,
} from '../../src/twitch-auth/index.js';
import { DeviceFlowPoller, type DeviceFlowClock } from '../../src/twitch-auth/tokens/device-flow.js';
import { DEVICE_CODE_GRANT_TYPE, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';

/** A clock whose sleeps return at once and move virtual time; every sleep is recorded. */
function virtualClock(): DeviceFlowClock & { sleeps: number[] } {
  let now = Date.now();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
    },
  };
}

const POLLS = { path: '/oauth2/token', grantType: DEVICE_CODE_GRANT_TYPE } as const;

describe('device-code flow', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let poller: DeviceFlowPoller;
  let realClock: DeviceFlowClock;
  let clock: ReturnType<typeof virtualClock>;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake });
    poller = t.app.get(DeviceFlowPoller);
    realClock = poller.clock;
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => {
    clock = virtualClock();
    poller.clock = clock;
    fake.clearRequests();
    fake.clearFailures();
    t.events.length = 0;
  });
  afterEach(() => {
    poller.clock = realClock;
  });

  /** Runs `act` on the given poll number (1-based) from `onPoll`, recording every outcome. */
  function onPoll(actions: Record<number, () => void>, outcomes: DevicePollEvent['outcome'][] = []) {
    return (event: DevicePollEvent) => {
      outcomes.push(event.outcome);
      actions[event.attempt]?.();
    };
  }

  it('pending, then approved: the token is stored for the approving user', async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    expect(device).toMatchObject({ interval: 5, expiresIn: 1800, scopes: ['chat:read'] });
    expect(device.verificationUri).toContain(device.userCode);
    const outcomes: DevicePollEvent['outcome'][] = [];
    const info = await t.tokens.waitForDeviceToken(device, { onPoll: onPoll({ 2: () => fake.approveDevice(device.userCode) }, outcomes) });
    expect(info).toMatchObject({ userId: fake.browserUser.userId, login: fake.browserUser.login, scopes: ['chat:read'], status: 'valid' });
    expect(outcomes).toEqual(['pending', 'pending']);
    expect(clock.sleeps).toEqual([5000, 5000, 5000]);
    expect(fake.countRequests(POLLS)).toBe(3);
    expect((await t.tokens.getUserToken(fake.browserUser.userId, ['chat:read'])).userId).toBe(fake.browserUser.userId);
    expect(t.events.map((e) => e.name)).toContain('twitch.token.added');
  });

  it('slow_down lengthens the interval by 5 s for this and every later poll', async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    fake.slowDownNext(device.userCode, 1);
    const outcomes: DevicePollEvent['outcome'][] = [];
    await t.tokens.waitForDeviceToken(device, { onPoll: onPoll({ 2: () => fake.approveDevice(device.userCode) }, outcomes) });
    expect(outcomes).toEqual(['slow_down', 'pending']);
    expect(clock.sleeps).toEqual([5000, 10000, 10000]);
  });

  it('tolerates Twitch\'s transient "invalid device code" before the user acts', async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    fake.failNext('token', 2, { status: 400, message: 'invalid device code' }, { grantType: DEVICE_CODE_GRANT_TYPE });
    const outcomes: DevicePollEvent['outcome'][] = [];
    const info = await t.tokens.waitForDeviceToken(device, { onPoll: onPoll({ 2: () => fake.approveDevice(device.userCode) }, outcomes) });
    expect(outcomes).toEqual(['not_yet_known', 'not_yet_known']);
    expect(info.userId).toBe(fake.browserUser.userId);
  });

  it('believes "invalid device code" once it lasts longer than the grace period', async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    fake.failNext('token', 30, { status: 400, message: 'invalid device code' }, { grantType: DEVICE_CODE_GRANT_TYPE });
    const error = await caught(t.tokens.waitForDeviceToken(device));
    expect(error).toBeInstanceOf(InvalidDeviceCodeError);
    const waited = clock.sleeps.reduce((sum, ms) => sum + ms, 0);
    expect(waited).toBeGreaterThan(60_000);
    expect(waited).toBeLessThanOrEqual(75_000);
  });

  it('denied: DeviceAccessDeniedError, nothing stored', async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    const user = fake.addUser({ login: 'declines' });
    fake.setBrowserUser(user.userId);
    try {
      const error = await caught(t.tokens.waitForDeviceToken(device, { onPoll: onPoll({ 1: () => fake.denyDevice(device.userCode) }) }));
      expect(error).toBeInstanceOf(DeviceAccessDeniedError);
      expect(await t.tokens.getTokenInfo(user.userId)).toBeNull();
    } finally {
      fake.setBrowserUser(fake.defaultUser.userId);
    }
  });

  it('expired: the wait ends when the device code runs out, without polling past it', async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    const error = await caught(t.tokens.waitForDeviceToken({ ...device, expiresIn: 12 }));
    expect(error).toBeInstanceOf(DeviceCodeExpiredError);
    expect(clock.sleeps).toEqual([5000, 5000, 2000]);
    expect(fake.countRequests(POLLS)).toBe(2);
  });

  it('expired: Twitch answering expired_token ends the wait with DeviceCodeExpiredError', async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    fake.failNext('token', 1, { status: 400, message: 'expired_token' }, { grantType: DEVICE_CODE_GRANT_TYPE });
    const error = await caught(t.tokens.waitForDeviceToken(device));
    expect(error).toBeInstanceOf(DeviceCodeExpiredError);
    expect(error.message).toMatch(/start the device flow again/);
  });

  it("aborted: the wait rejects with the signal's reason and stops polling", async () => {
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    const controller = new AbortController();
    const reason = new Error('the user pressed Ctrl+C');
    const error = await caught(
      t.tokens.waitForDeviceToken(device, { signal: controller.signal, onPoll: onPoll({ 2: () => controller.abort(reason) }) }),
    );
    expect(error).toBe(reason);
    expect(fake.countRequests(POLLS)).toBe(2);
  });

  it("aborted during a real sleep: rejects at once with the signal's reason", async () => {
    poller.clock = realClock;
    const device = await t.tokens.startDeviceFlow(['chat:read']);
    const controller = new AbortController();
    const reason = new Error('gave up');
    const started = Date.now();
    setTimeout(() => controller.abort(reason), 50);
    const error = await caught(t.tokens.waitForDeviceToken(device, { signal: controller.signal }));
    expect(error).toBe(reason);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fake.countRequests(POLLS)).toBe(0);
  });

  it('application shutdown ends a wait in progress (no timer outlives the app)', async () => {
    const other = await createTestApp({ fake });
    const device = await other.tokens.startDeviceFlow(['chat:read']);
    const waiting = caught(other.tokens.waitForDeviceToken(device));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await other.close();
    const error = await waiting;
    expect(error).toBeInstanceOf(TwitchAuthError);
    expect(error.message).toMatch(/shut down/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('device-code flow of a public client (no client secret)', () => {
  it('completes, stores the token, and refreshes it without ever sending a secret', async () => {
    const fake = await startFake({ clientSecret: null });
    const t = await createTestApp({ fake });
    const poller = t.app.get(DeviceFlowPoller);
    poller.clock = virtualClock();
    try {
      const device = await t.tokens.startDeviceFlow(['chat:read', 'chat:edit']);
      const info = await t.tokens.waitForDeviceToken(device, {
        onPoll: (event) => event.attempt === 1 && fake.approveDevice(device.userCode),
      });
      expect(info).toMatchObject({ userId: fake.browserUser.userId, scopes: ['chat:read', 'chat:edit'] });
      const before = (await t.tokens.getUserToken(info.userId)).accessToken;
      const refreshed = await t.tokens.refresh(info.userId);
      expect(refreshed.accessToken).not.toBe(before);
      expect(fake.isValid(refreshed.accessToken)).toBe(true);
      expect(fake.requests.filter((r) => 'client_secret' in r.form || 'client_secret' in r.query)).toEqual([]);
      expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});
