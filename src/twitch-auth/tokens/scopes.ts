const interned = new Map<string, readonly string[]>();

/**
 * Returns one shared frozen array per distinct scope set, so 100,000 users
 * with the same scopes cost one array, not 100,000.
 */
export function internScopes(scopes: readonly string[]): readonly string[] {
  const key = scopes.join(' ');
  let shared = interned.get(key);
  if (!shared) {
    shared = Object.freeze([...scopes]);
    interned.set(key, shared);
  }
  return shared;
}

/** The scopes of `wanted` that `held` lacks, in the order asked. */
export function missingScopes(held: readonly string[], wanted: readonly string[]): string[] {
  return wanted.filter((scope) => !held.includes(scope));
}

/** Splits `a b`, `a+b` or `a,b` into scopes, dropping empties and duplicates. */
export function parseScopeList(value: string): string[] {
  return [...new Set(value.split(/[\s+,]+/).filter((scope) => scope !== ''))];
}
