import type { ActivityBucket } from './dashboard-activity.js';
import { htmlTemplate, type SafeHtml } from './dashboard-html.js';

const WIDTH = 720;
const HEIGHT = 200;
const LEFT = 40;
const BOTTOM = 24;
const TOP = 10;
const SERIES = [
  { key: 'refreshed', label: 'refreshes', colour: '#2b6cb0' },
  { key: 'validated', label: 'validations', colour: '#2f855a' },
  { key: 'failed', label: 'failures', colour: '#c53030' },
] as const;

/**
 * The last 24 hours of activity as an inline SVG line chart: one line per
 * series, the y axis labelled with counts, the x axis with hours (UTC), and a
 * text summary for screen readers and text browsers.
 */
export function activityChart(buckets: ActivityBucket[]): SafeHtml {
  const max = Math.max(1, ...buckets.flatMap((b) => [b.refreshed, b.validated, b.failed]));
  const plotWidth = WIDTH - LEFT - 10;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const x = (i: number) => LEFT + (buckets.length > 1 ? (i * plotWidth) / (buckets.length - 1) : 0);
  const y = (value: number) => TOP + plotHeight - (value * plotHeight) / max;
  const totals = SERIES.map((s) => ({ ...s, total: buckets.reduce((sum, b) => sum + b[s.key], 0) }));
  const lines = SERIES.map(
    (s) =>
      htmlTemplate`<polyline
        fill="none"
        stroke="${s.colour}"
        stroke-width="2"
        points="${buckets.map((b, i) => `${x(i).toFixed(1)},${y(b[s.key]).toFixed(1)}`).join(' ')}"
        ><title>${s.label}</title></polyline
      >`,
  );
  const hourTicks = buckets
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => b.startsAt % (4 * 3600_000) === 0)
    .map(
      ({ b, i }) =>
        htmlTemplate`<line x1="${x(i)}" y1="${TOP + plotHeight}" x2="${x(i)}" y2="${TOP + plotHeight + 4}" stroke="#555" /><text
            x="${x(i)}"
            y="${HEIGHT - 6}"
            text-anchor="middle"
            >${new Date(b.startsAt).toISOString().slice(11, 16)}</text
          >`,
    );
  const summary = totals.map((s) => `${s.total} ${s.label}`).join(', ');
  return htmlTemplate`<figure class="chart">
    <svg
      role="img"
      aria-labelledby="chart-title"
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      width="${WIDTH}"
      height="${HEIGHT}"
      font-size="11"
      font-family="sans-serif"
    >
      <title id="chart-title">Refreshes, validations and failures per 15 minutes over the last 24 hours: ${summary}</title>
      <line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + plotHeight}" stroke="#555" />
      <line x1="${LEFT}" y1="${TOP + plotHeight}" x2="${WIDTH - 10}" y2="${TOP + plotHeight}" stroke="#555" />
      <text x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${max}</text>
      <text x="${LEFT - 6}" y="${TOP + plotHeight}" text-anchor="end">0</text>
      <text x="12" y="${TOP + plotHeight / 2}" transform="rotate(-90 12 ${TOP + plotHeight / 2})" text-anchor="middle">per 15 min</text>
      ${hourTicks} ${lines}
    </svg>
    <figcaption>
      Last 24 hours (UTC), this instance: ${totals.map((s) => htmlTemplate`<span style="color:${s.colour}">■</span> ${s.total} ${s.label} `)}
    </figcaption>
  </figure>`;
}
