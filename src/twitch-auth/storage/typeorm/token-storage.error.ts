import { TwitchAuthError } from '../../twitch-auth.errors.js';

/**
 * The database refused a token-storage operation. It carries only the
 * driver's message and code: the failed query's parameters hold tokens, so the
 * driver error itself is not kept as `cause`.
 */
export class TokenStorageError extends TwitchAuthError {
  /** Driver error code (e.g. Postgres SQLSTATE or `SQLITE_BUSY`), when there was one. */
  readonly code: string | undefined;

  constructor(operation: string, error: unknown) {
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    super(`Token storage ${operation} failed${code ? ` (${code})` : ''}: ${message}`);
    this.code = code;
  }
}

/** The driver's error code, whichever property the driver put it in. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, driverError } = error as { code?: unknown; driverError?: { code?: unknown } };
  const found = code ?? driverError?.code;
  return typeof found === 'string' ? found : undefined;
}
