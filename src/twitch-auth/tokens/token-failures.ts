import { TwitchRequestError } from '../twitch/twitch.errors.js';

/** True for failures a later retry may cure. */
export function isTransient(error: unknown): boolean {
  return error instanceof TwitchRequestError && error.transient;
}

/** One line naming a failure, for log messages and event reasons. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
