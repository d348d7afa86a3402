import type { TokenInfo } from '../twitch-auth/index.js';

/** A short human duration: `45s`, `12m 5s`, `3h 59m`, `2d 4h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  const rest = seconds % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${rest}s`;
  return `${rest}s`;
}

/** `mm:ss` for a countdown. */
export function formatClock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/** When the token expires, relative to `now`. */
export function expiresIn(info: Pick<TokenInfo, 'expiresAt'>, now: number): string {
  if (info.expiresAt === null) return 'never';
  const left = info.expiresAt.getTime() - now;
  return left <= 0 ? 'expired' : formatDuration(left);
}

/** When Twitch last confirmed the token, relative to `now`. */
export function lastValidated(info: Pick<TokenInfo, 'lastValidatedAt'>, now: number): string {
  return info.lastValidatedAt === null ? 'never' : `${formatDuration(now - info.lastValidatedAt.getTime())} ago`;
}

/** The `list` table: what is stored, never the secrets. */
export function tokenTable(tokens: TokenInfo[], now: number): string {
  const header = ['USER ID', 'LOGIN', 'SCOPES', 'EXPIRES IN', 'LAST VALIDATED', 'STATUS'];
  const rows = tokens.map((info) => [
    info.userId,
    info.login ?? '-',
    info.scopes.length > 0 ? info.scopes.join(' ') : '-',
    expiresIn(info, now),
    lastValidated(info, now),
    info.status,
  ]);
  return table([header, ...rows]);
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `login (user id)` or just the id. */
export function who(info: Pick<TokenInfo, 'userId' | 'login'>): string {
  return info.login ? `${info.login} (user id ${info.userId})` : `user ${info.userId}`;
}
