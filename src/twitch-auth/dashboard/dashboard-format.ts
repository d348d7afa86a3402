/** Durations and instants as the page prints them; the inline script prints countdowns the same way. */

/** `3h 02m 05s`-style duration of `ms` (absolute value). */
export function formatDuration(ms: number): string {
  let seconds = Math.floor(Math.abs(ms) / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  seconds %= 60;
  return `${hours ? `${hours}h ` : ''}${hours || minutes ? `${minutes}m ` : ''}${seconds}s`;
}

/** "in 3h 02m 05s" or "expired 5s ago". */
export function formatCountdown(expiresAt: number, now: number): string {
  const left = expiresAt - now;
  return left > 0 ? `in ${formatDuration(left)}` : `expired ${formatDuration(left)} ago`;
}

/** "5m 3s ago", "in 40s", or "never". */
export function formatRelative(at: number | null, now: number): string {
  if (at === null) return 'never';
  return at <= now ? `${formatDuration(now - at)} ago` : `in ${formatDuration(at - now)}`;
}

/** The same countdown in the browser, updated every second: a progressive enhancement, the page reads without it. */
export const COUNTDOWN_SCRIPT = `(function () {
  function duration(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('time[data-countdown]').forEach(function (el) {
      var left = Date.parse(el.getAttribute('datetime')) - now;
      el.textContent = left > 0 ? 'in ' + duration(left) : 'expired ' + duration(left) + ' ago';
    });
  }
  tick();
  setInterval(tick, 1000);
})();`;
