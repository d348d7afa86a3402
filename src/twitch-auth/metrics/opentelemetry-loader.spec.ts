import type { Meter } from '@opentelemetry/api';
import type { TwitchAuthMeter } from './meter.types.js';
import { importOptional, loadOpenTelemetryApi } from './opentelemetry-loader.js';

/** Compiles only while the real API's meter has every member the module calls. */
export const meterIsAssignable = (meter: Meter): TwitchAuthMeter => meter;

describe('loading the optional OpenTelemetry API', () => {
  it('answers null for a package that is not installed', async () => {
    await expect(importOptional('@opentelemetry/not-installed-here')).resolves.toBeNull();
  });

  it('throws other failures, such as a module that exists but cannot load', async () => {
    await expect(importOptional('data:text/javascript,throw new Error("broken installation")')).rejects.toThrow('broken installation');
  });

  it('finds the installed API and its metrics entry point', async () => {
    const api = await loadOpenTelemetryApi();
    expect(typeof api?.metrics.getMeter).toBe('function');
  });
});
