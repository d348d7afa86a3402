import { jest } from '@jest/globals';
import { setTimeout as realSleep } from 'node:timers/promises';
import type { TwitchAuthMaintenance } from '../../../src/twitch-auth/index.js';

/**
 * Jest's fake timers for Date and setTimeout/setInterval: the scheduler, the
 * refresher and FakeTwitch (started with `now: () => Date.now()`) all read
 * the one fake clock. Event-loop hooks stay real so HTTP and promises run.
 */
export function useFakeClock(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
}

/**
 * Waits, in real time, until no tick is running in any of `instances`: a tick
 * does real I/O (HTTP to FakeTwitch), which fake time cannot hurry.
 */
export async function settle(...instances: TwitchAuthMaintenance[]): Promise<void> {
  for (let waited = 0; instances.some((m) => m.status().running); waited += 2) {
    if (waited > 15_000) throw new Error('a maintenance tick did not finish within 15 s of real time');
    await realSleep(2);
  }
}

/**
 * Moves the fake clock forward by `ms` in steps shorter than a tick, letting
 * each tick that fires finish before the clock moves on, as it would in real life.
 */
export async function advance(ms: number, instances: TwitchAuthMaintenance[], stepMs = 5_000): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) {
    await jest.advanceTimersByTimeAsync(Math.min(stepMs, left));
    await settle(...instances);
  }
}

/** Resolves after `ms` of real time, whatever the fake clock does. */
export function sleepReal(ms: number): Promise<void> {
  return realSleep(ms);
}
