/** Reading the OAuth routes' inputs the same way on Express and Fastify (no cookie or query plugins assumed). */

const SCOPE_PATTERN = /^[a-z0-9_]+(:[a-z0-9_]+)*$/;
const MAX_SCOPES = 100;

/** Cookies of a raw `Cookie` header, by name; a name sent twice (different paths) keeps every value. */
export function readCookies(header: string | string[] | undefined): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    const values = cookies.get(name) ?? [];
    values.push(value);
    cookies.set(name, values);
  }
  return cookies;
}

/**
 * One query parameter as a string. Body parsers differ (`?a=1&a=2` is an
 * array on Express, `a[b]=1` an object): anything but one string is `invalid`.
 */
export function queryValue(query: unknown, name: string): string | undefined | { invalid: true } {
  const value = query && typeof query === 'object' ? (query as Record<string, unknown>)[name] : undefined;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : { invalid: true };
}

/** Outcome of reading user input: the value, or a message for a 400 page. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** `scopes` separated by spaces, `+` or commas, each with Twitch's scope syntax; empty means "use the defaults". */
export function parseScopesParam(raw: string | undefined | { invalid: true }): Parsed<string[]> {
  if (raw === undefined) return { ok: true, value: [] };
  if (typeof raw !== 'string') return { ok: false, message: 'Give the scopes once, e.g. ?scopes=chat:read+chat:edit.' };
  const scopes = [...new Set(raw.split(/[\s+,]+/).filter((scope) => scope !== ''))];
  if (scopes.length > MAX_SCOPES) return { ok: false, message: `At most ${MAX_SCOPES} scopes can be asked at once.` };
  const bad = scopes.find((scope) => !SCOPE_PATTERN.test(scope));
  if (bad !== undefined) {
    return { ok: false, message: `"${bad.slice(0, 100)}" is not a Twitch scope (expected e.g. chat:read or moderator:read:followers).` };
  }
  return { ok: true, value: scopes };
}

/**
 * The scopes a start request may ask Twitch for: those of `?set=<name>`, or
 * the `?scopes=` given when they are exactly one configured set's (in any
 * order), or the `default` set when neither is given. Anything else is
 * refused: visitors choose among the app's sets, never their own scopes.
 */
export function chooseScopeSet(
  rawSet: string | undefined | { invalid: true },
  requested: string[],
  sets: Readonly<Record<string, readonly string[]>>,
): Parsed<string[]> {
  const offer = Object.entries(sets)
    .map(([name, scopes]) => `?set=${name} (${scopes.join(' ') || 'no scopes'})`)
    .join(', ');
  if (rawSet !== undefined) {
    if (typeof rawSet !== 'string' || requested.length > 0) return { ok: false, message: `Give one set, and no scopes: ${offer}.` };
    if (!Object.hasOwn(sets, rawSet))
      return { ok: false, message: `"${rawSet.slice(0, 64)}" is not a scope set of this application: ${offer}.` };
    return { ok: true, value: [...sets[rawSet]!] };
  }
  if (requested.length === 0) return { ok: true, value: [...(sets.default ?? [])] };
  const wanted = new Set(requested);
  const match = Object.values(sets).find((scopes) => scopes.length === wanted.size && scopes.every((scope) => wanted.has(scope)));
  if (match) return { ok: true, value: [...match] };
  return { ok: false, message: `This application does not ask for these scopes; it asks for one of its scope sets: ${offer}.` };
}

/**
 * `return_to` must stay on this site: a relative path starting with a single
 * `/`, no backslash and no control character (browsers drop tabs and
 * newlines, which would turn `/\t/evil.example` into `//evil.example`).
 * The value is returned percent-encoded (`encodeLocation`), as it will be
 * sent in the `Location` header, and refused when that is longer than
 * `maxLength` (what the state can carry).
 */
export function parseReturnTo(raw: string | undefined | { invalid: true }, maxLength: number): Parsed<string | null> {
  if (raw === undefined || raw === '') return { ok: true, value: null };
  const refuse = { ok: false as const, message: 'return_to must be a path on this site, such as /dashboard.' };
  // Cheap bound first: encoding never shortens, so a longer raw value is too long anyway.
  if (typeof raw === 'string' && raw.length > maxLength) return tooLong(maxLength);
  if (typeof raw !== 'string' || !isSameSitePath(raw)) return refuse;
  const encoded = encodeLocation(raw);
  if (encoded.length > maxLength) return tooLong(maxLength);
  // Encoding only replaces characters by %XX, which cannot make a path leave the site; checked again all the same.
  if (!isSameSitePath(encoded)) return refuse;
  return { ok: true, value: encoded };
}

function tooLong(maxLength: number): Parsed<never> {
  return {
    ok: false,
    message: `return_to is too long: at most ${maxLength} characters once percent-encoded (it travels to Twitch and back inside the state).`,
  };
}

function isSameSitePath(path: string): boolean {
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\') || hasControlCharacter(path)) return false;
  const base = 'http://return-to.invalid';
  try {
    return new URL(path, base).origin === base;
  } catch {
    return false;
  }
}

/** Characters a `Location` may carry as they are (RFC 3986 unreserved, reserved and `%`); everything else is percent-encoded. */
const LOCATION_SAFE = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]$/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * `location` with every character a header cannot carry or a URL does not
 * allow percent-encoded as UTF-8 (a lone surrogate becomes U+FFFD), and a
 * `%` not followed by two hex digits encoded as `%25`; existing `%XX`
 * escapes are kept. Express encodes redirects this way itself, Fastify does
 * not (a non-Latin-1 header value makes it fail), so the routes send it
 * encoded on both.
 */
export function encodeLocation(location: string): string {
  let out = '';
  for (let i = 0; i < location.length; i++) {
    const char = location[i]!;
    if (char === '%') {
      out += HEX.test(location.slice(i + 1, i + 3)) ? '%' : '%25';
    } else if (LOCATION_SAFE.test(char)) {
      out += char;
    } else {
      const code = location.codePointAt(i)!;
      const whole = code > 0xffff ? location.slice(i, i + 2) : char;
      if (code > 0xffff) i++;
      out += encodeURIComponent(code >= 0xd800 && code <= 0xdfff ? '\uFFFD' : whole);
    }
  }
  return out;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** `force_verify=true` (or `1`) makes Twitch ask again even if the user already agreed. */
export function parseForceVerify(raw: string | undefined | { invalid: true }): boolean {
  return raw === 'true' || raw === '1';
}
