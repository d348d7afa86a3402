import type { OpenTelemetryMetricsApi } from './meter.types.js';

/**
 * Injection token of the function that loads `@opentelemetry/api`; it
 * resolves with null when the package is not installed. Replaced in tests to
 * play an application without it.
 */
export const OPENTELEMETRY_API_LOADER = Symbol('OPENTELEMETRY_API_LOADER');

/** Loads `@opentelemetry/api`, or null when it is not installed. */
export type OpenTelemetryApiLoader = () => Promise<OpenTelemetryMetricsApi | null>;

/**
 * `@opentelemetry/api` is an optional peer dependency: it is imported only
 * here, lazily, so the module loads without it.
 */
export const loadOpenTelemetryApi: OpenTelemetryApiLoader = async () => {
  const loaded = await importOptional<OpenTelemetryMetricsApi & { default?: OpenTelemetryMetricsApi }>('@opentelemetry/api');
  // The package is CommonJS: its named exports may only be on `default`.
  return loaded && (loaded.metrics ? loaded : (loaded.default ?? null));
};

/**
 * The module `specifier` names, or null when it is not installed. Any other
 * failure (a broken installation) is thrown: silently recording nothing
 * would hide it.
 */
export async function importOptional<T>(specifier: string): Promise<T | null> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    if (missing && typeof message === 'string' && message.includes(specifier)) return null;
    throw error;
  }
}
