import { TwitchAuthConfigError, resolveTwitchAuthOptions, type TwitchAuthModuleOptions } from '../../src/twitch-auth/index.js';

const base: TwitchAuthModuleOptions = { clientId: 'client-id' };

describe('EventSub WebSocket options', () => {
  it('defaults to Twitch: the wss endpoint, a 10 s keepalive, 600 s message age, stored subscriptions restored', () => {
    const resolved = resolveTwitchAuthOptions(base);
    expect(resolved.twitch.eventSubWebSocketUrl).toBe('wss://eventsub.wss.twitch.tv/ws');
    expect(resolved.eventSubWebSocket).toEqual({
      keepaliveTimeoutSeconds: 10,
      maxMessageAgeSeconds: 600,
      restoreAtBoot: true,
      leaseSeconds: 30,
      renewSeconds: 10,
    });
    expect(resolved.eventSub).toBeNull();
  });

  it('needs no webhook secret for WebSocket-only settings', () => {
    const resolved = resolveTwitchAuthOptions({
      ...base,
      eventSub: { webSocket: { keepaliveTimeoutSeconds: 30, restoreAtBoot: false, leaseSeconds: 6 }, maxMessageAgeSeconds: 120 },
      twitch: { eventSubWebSocketUrl: 'ws://127.0.0.1:8080/ws' },
    });
    expect(resolved.eventSub).toBeNull();
    // renewSeconds defaults to a third of a short lease.
    expect(resolved.eventSubWebSocket).toEqual({
      keepaliveTimeoutSeconds: 30,
      maxMessageAgeSeconds: 120,
      restoreAtBoot: false,
      leaseSeconds: 6,
      renewSeconds: 2,
    });
    expect(resolved.twitch.eventSubWebSocketUrl).toBe('ws://127.0.0.1:8080/ws');
  });

  it('still requires the secret as soon as a webhook option is given', () => {
    expect(() => resolveTwitchAuthOptions({ ...base, eventSub: { publicUrl: 'https://bot.example.com' } })).toThrow(
      /eventSub\.secret must be 10 to 100/,
    );
  });

  it.each([9, 601, 10.5, '30'])('refuses keepaliveTimeoutSeconds %p with the allowed range', (value) => {
    const options = { ...base, eventSub: { webSocket: { keepaliveTimeoutSeconds: value as number } } };
    expect(() => resolveTwitchAuthOptions(options)).toThrow(TwitchAuthConfigError);
    expect(() => resolveTwitchAuthOptions(options)).toThrow(/keepaliveTimeoutSeconds must be a whole number from 10 to 600/);
  });

  it.each(['https://eventsub.wss.twitch.tv/ws', 'not a url'])('refuses eventSubWebSocketUrl %p, naming a ws(s) URL', (url) => {
    expect(() => resolveTwitchAuthOptions({ ...base, twitch: { eventSubWebSocketUrl: url } })).toThrow(
      /twitch\.eventSubWebSocketUrl must be an absolute ws\(s\) URL/,
    );
  });

  it.each([
    [{ leaseSeconds: 1 }, /eventSub\.webSocket\.leaseSeconds must be at least 2; got 1/],
    [{ leaseSeconds: 0 }, /eventSub\.webSocket\.leaseSeconds must be a positive number of seconds/],
    [{ leaseSeconds: '30' }, /eventSub\.webSocket\.leaseSeconds must be a positive number of seconds/],
    [{ leaseSeconds: 10, renewSeconds: 5 }, /renewSeconds \(5\) must be less than half of leaseSeconds \(10\)/],
    [{ renewSeconds: -1 }, /eventSub\.webSocket\.renewSeconds must be a positive number of seconds/],
  ])('refuses user lease timing %p, saying what to change', (webSocket, message) => {
    const options = { ...base, eventSub: { webSocket: webSocket as { leaseSeconds?: number; renewSeconds?: number } } };
    expect(() => resolveTwitchAuthOptions(options)).toThrow(TwitchAuthConfigError);
    expect(() => resolveTwitchAuthOptions(options)).toThrow(message);
  });
});
