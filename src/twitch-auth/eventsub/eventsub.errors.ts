import { TwitchAuthConfigError, TwitchAuthError } from '../twitch-auth.errors.js';

/** EventSub was used, but `TwitchAuthModule` was configured without `eventSub`. */
export class EventSubNotConfiguredError extends TwitchAuthConfigError {
  constructor(what: string) {
    super(
      `${what} needs EventSub to be configured: pass eventSub: { secret, publicUrl } to TwitchAuthModule.forRoot ` +
        '(the secret is 10 to 100 ASCII characters of your choosing, not the client secret).',
    );
  }
}

/** A subscription was asked for, but Twitch would not know where to deliver it. */
export class EventSubPublicUrlMissingError extends TwitchAuthConfigError {
  constructor() {
    super(
      'eventSub.publicUrl is not set, so Twitch cannot be told where to deliver events: set it to the public HTTPS origin ' +
        'Twitch reaches this app at, e.g. https://bot.example.com (the callback is publicUrl + eventSub.path, ' +
        'so include any global prefix in publicUrl).',
    );
  }
}

/**
 * The app was created without `rawBody: true`, so the exact bytes Twitch
 * signed are gone and no signature can be checked.
 */
export class EventSubRawBodyMissingError extends TwitchAuthConfigError {
  constructor() {
    super(
      "EventSub needs the raw request body to check Twitch's signature, and this app does not keep it. " +
        'Create the app with NestFactory.create(AppModule, { rawBody: true }) ' +
        '(Fastify: NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true })).',
    );
  }
}

/** Twitch answered a subscription request in a way that leaves its state unknown (e.g. 409 for one it does not list). */
export class EventSubSubscriptionError extends TwitchAuthError {}
