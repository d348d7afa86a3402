/**
 * Small pieces the EventSub background work shares (lease rounds for
 * conduit shards and user sockets, socket pools, dispatch): what they log
 * about a failure, and how long shutdown waits for them.
 */

/** An error's message for a log line (never its stack; messages of this module carry no secrets). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Waits for `work`, but at most `ms`; undefined when the time ran out (the work goes on unobserved). */
export async function waitAtMost<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
