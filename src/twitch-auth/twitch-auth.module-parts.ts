import type { Provider, Type } from '@nestjs/common';
import type { EventSubMount } from './twitch-auth.options.js';

/**
 * Where the built-in HTTP routes are mounted. Controllers are decorated with
 * their paths when the module is built, so paths are structural: `forRoot`
 * derives them from `oauth` / `eventSub`; `forRootAsync` takes them in `routes`.
 */
export interface TwitchAuthRoutes {
  /** Null when the OAuth routes are off. */
  oauth: { path: string; callbackPath: string } | null;
  /** Null when no EventSub receiver is mounted. */
  eventSub: { path: string; mount: EventSubMount } | null;
}

/** A feature's contribution to the dynamic module (OAuth, EventSub, scheduling...). */
export interface TwitchAuthModuleParts {
  providers?: Provider[];
  controllers?: Type[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  exports?: any[];
}

/** Builds one feature's parts from the routes. */
export type TwitchAuthModulePartsFactory = (routes: TwitchAuthRoutes) => TwitchAuthModuleParts;
