import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { TwitchAuthError } from '../twitch-auth.errors.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { AuthorizationPendingError, DeviceCodeExpiredError, InvalidDeviceCodeError, SlowDownError } from '../twitch/twitch.errors.js';
import type { DeviceCode, TokenGrant } from '../twitch/twitch.types.js';
import { isTransient } from './token-failures.js';

/** One poll's outcome, reported through `onPoll`. */
export interface DevicePollEvent {
  attempt: number;
  /** `pending`, `slow_down`, `not_yet_known` (Twitch's transient "invalid device code"), `transient_error`. */
  outcome: 'pending' | 'slow_down' | 'not_yet_known' | 'transient_error';
  /** Seconds until the next poll. */
  nextPollInSeconds: number;
  /** Seconds until the device code expires. */
  expiresInSeconds: number;
}

/** Options of `waitForDeviceToken`. */
export interface WaitForDeviceTokenOptions {
  /** Stops waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after every unsuccessful poll (for a countdown or progress output). */
  onPoll?: (event: DevicePollEvent) => void;
}

/** Time source of the poller; tests replace it to run without real waiting. */
export interface DeviceFlowClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * How long Twitch's transient "invalid device code" (sent before the user
 * acts) is tolerated before it is believed.
 */
export const DEVICE_CODE_UNKNOWN_GRACE_MS = 60_000;

/** Polls Twitch for a device-flow token at the pace Twitch asks for (RFC 8628). */
@Injectable()
export class DeviceFlowPoller implements OnApplicationShutdown {
  /** Replaceable so tests can run a whole flow without real waiting. */
  clock: DeviceFlowClock = {
    now: () => Date.now(),
    sleep: (ms, signal) => sleep(ms, undefined, { signal }),
  };
  private readonly shutdown = new AbortController();

  constructor(private readonly identity: TwitchIdentityClient) {}

  /** Ends every wait in progress, so no poll timer outlives the application. */
  onApplicationShutdown(): void {
    this.shutdown.abort(new TwitchAuthError('The application shut down while waiting for a device-code authorization.'));
  }

  /** Resolves with the grant once approved; rejects with a typed error when denied, expired or aborted. */
  async waitForGrant(device: DeviceCode, options: WaitForDeviceTokenOptions = {}): Promise<TokenGrant> {
    const { onPoll } = options;
    const signal = options.signal ? AbortSignal.any([options.signal, this.shutdown.signal]) : this.shutdown.signal;
    const started = this.clock.now();
    const expiresAt = started + device.expiresIn * 1000;
    let intervalMs = Math.max(1, device.interval) * 1000;
    let unknownSince: number | null = null;
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      const remainingMs = expiresAt - this.clock.now();
      if (remainingMs <= 0) throw expired();
      // A timer rejects with its own AbortError; callers were promised the signal's reason.
      await this.clock.sleep(Math.min(intervalMs, remainingMs), signal).catch((error: unknown) => {
        signal.throwIfAborted();
        throw error;
      });
      signal.throwIfAborted();
      if (this.clock.now() >= expiresAt) throw expired();
      let outcome: DevicePollEvent['outcome'];
      try {
        return await this.identity.pollDeviceToken(device.deviceCode, device.scopes, signal);
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof AuthorizationPendingError) {
          outcome = 'pending';
          unknownSince = null;
        } else if (error instanceof SlowDownError) {
          outcome = 'slow_down';
          intervalMs += 5_000;
        } else if (error instanceof InvalidDeviceCodeError) {
          unknownSince ??= this.clock.now();
          if (this.clock.now() - unknownSince > DEVICE_CODE_UNKNOWN_GRACE_MS) throw error;
          outcome = 'not_yet_known';
        } else if (isTransient(error)) {
          outcome = 'transient_error';
        } else {
          throw error;
        }
      }
      onPoll?.({
        attempt,
        outcome,
        nextPollInSeconds: intervalMs / 1000,
        expiresInSeconds: Math.max(0, Math.round((expiresAt - this.clock.now()) / 1000)),
      });
    }
  }
}

function expired(): DeviceCodeExpiredError {
  return new DeviceCodeExpiredError({ status: null, twitchMessage: null, endpoint: 'token' });
}
