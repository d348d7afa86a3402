import type { DashboardSnapshot, DashboardTokenRow, DashboardTokenState, SubscriptionCount } from './dashboard-snapshot.js';
import { activityChart } from './dashboard-chart.js';
import { COUNTDOWN_SCRIPT, formatCountdown, formatRelative } from './dashboard-format.js';
import { htmlTemplate, type SafeHtml } from './dashboard-html.js';
import { DASHBOARD_CSRF_FIELD } from './dashboard-csrf.js';

/** What the page needs besides the snapshot; every link is built by the controller. */
export interface DashboardPageContext {
  /** Where the page is mounted. */
  path: string;
  csrfToken: string;
  /** The nonce the Content-Security-Policy allows the countdown script with. */
  scriptNonce: string;
  notice: string | null;
  flash: { kind: 'ok' | 'error'; text: string } | null;
  /** The "Authorize a Twitch account" link, or null when there is no route to offer. */
  authorizeHref: string | null;
  /** The re-authorization link of one token. */
  reauthorizeHref(row: DashboardTokenRow): string | null;
}

const BADGES: Record<DashboardTokenState, { label: string; tone: string }> = {
  valid: { label: 'valid', tone: 'good' },
  expiring: { label: 'expiring soon', tone: 'warn' },
  expired: { label: 'expired', tone: 'warn' },
  failing: { label: 'failing', tone: 'bad' },
  reauth_required: { label: 'reauth required', tone: 'bad' },
};

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a202c}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #cbd5e0;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#edf2f7}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.85em;font-weight:600}
.good{background:#c6f6d5}.warn{background:#fefcbf}.bad{background:#fed7d7}.muted{color:#718096}
form.inline{display:inline}.flash{padding:.5rem;border-radius:.3rem}.flash.ok{background:#c6f6d5}.flash.error{background:#fed7d7}
nav a,nav strong{margin-right:1rem}caption{text-align:left;padding:.3rem 0}section{margin-top:1.5rem}`;

/** The whole page: readable without JavaScript; the script only moves the countdowns. */
export function dashboardPage(snapshot: DashboardSnapshot, context: DashboardPageContext): string {
  const filterLink = (filter: string | null, label: string) =>
    snapshot.filter === filter
      ? htmlTemplate`<strong>${label}</strong>`
      : htmlTemplate`<a href="${filter ? `${context.path}?filter=${filter}` : context.path}">${label}</a>`;
  const body = htmlTemplate`<h1>Twitch tokens</h1>
    ${context.notice ? htmlTemplate`<p class="notice"><strong>${context.notice}</strong></p>` : ''}
    ${context.flash ? htmlTemplate`<p class="flash ${context.flash.kind}" role="status">${context.flash.text}</p>` : ''}
    ${context.authorizeHref ? htmlTemplate`<p><a href="${context.authorizeHref}">Authorize a Twitch account</a></p>` : ''}
    <nav aria-label="Filters">
      ${filterLink(null, 'All tokens')}${filterLink('reauth', 'Needs re-authorization')}${filterLink('expiring', 'Expiring within the hour')}
    </nav>
    ${tokenTable(snapshot, context)} ${revocations(snapshot)} ${maintenance(snapshot)} ${eventSub(snapshot)}
    <section>
      <h2>Activity</h2>
      ${activityChart(snapshot.activity)}
    </section>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Twitch tokens</title><style>${STYLE}</style></head><body>
${body.markup}
<script nonce="${context.scriptNonce}">${COUNTDOWN_SCRIPT}</script>
</body></html>`;
}

function tokenTable(snapshot: DashboardSnapshot, context: DashboardPageContext): SafeHtml {
  const { now } = snapshot;
  const rows = snapshot.tokens.map((row) => {
    const badge = BADGES[row.state];
    const reauthorize = context.reauthorizeHref(row);
    return htmlTemplate`<tr data-user-id="${row.userId}">
      <td>${row.userId}</td>
      <td>${row.login ?? htmlTemplate`<span class="muted">unknown</span>`}</td>
      <td>${row.intents.join(' ')}</td>
      <td>${row.scopes.join(' ')}</td>
      <td><span class="badge ${badge.tone}" data-state="${row.state}">${badge.label}</span></td>
      <td>
        ${row.expiresAt === null ? 'never' : htmlTemplate`<time datetime="${new Date(row.expiresAt).toISOString()}" data-countdown title="${new Date(row.expiresAt).toISOString()}">${formatCountdown(row.expiresAt, now)}</time>`}
      </td>
      <td>${instant(row.lastValidatedAt, now)}</td>
      <td>${instant(row.obtainedAt, now)}</td>
      <td>${row.failureCount}${row.failureCount > 0 && row.retryAt > now ? htmlTemplate` (retry ${formatRelative(row.retryAt, now)})` : ''}</td>
      <td>
        ${action(context, row, 'validate', 'Validate now')}${action(context, row, 'refresh', 'Refresh now')}${action(context, row, 'revoke', 'Revoke')}${reauthorize ? htmlTemplate` <a href="${reauthorize}">Re-authorize</a>` : ''}
      </td>
    </tr>`;
  });
  const empty = snapshot.filter ? 'No tokens match this filter.' : 'No tokens yet.';
  const capped =
    snapshot.tokens.length < snapshot.totalTokens && !snapshot.filter
      ? htmlTemplate`<p class="muted">Showing ${snapshot.tokens.length} of ${snapshot.totalTokens} tokens.</p>`
      : '';
  return htmlTemplate`<table id="tokens">
      <caption>
        ${snapshot.totalTokens} token(s) stored
      </caption>
      <thead>
        <tr>
          <th>User id</th>
          <th>Login</th>
          <th>Intents</th>
          <th>Scopes</th>
          <th>Status</th>
          <th>Expires</th>
          <th>Last validated</th>
          <th title="When the access token in use was issued: added, authorized or refreshed">Token issued</th>
          <th>Failures</th>
          <th>Actions</th>
        </tr>
      </thead>
      <tbody>
        ${
          rows.length > 0
            ? rows
            : htmlTemplate`<tr>
                <td colspan="10">${empty}</td>
              </tr>`
        }
      </tbody>
    </table>
    ${capped}`;
}

function action(context: DashboardPageContext, row: DashboardTokenRow, name: string, label: string): SafeHtml {
  const base = context.path === '/' ? '' : context.path;
  return htmlTemplate`<form class="inline" method="post" action="${base}/tokens/${encodeURIComponent(row.userId)}/${name}">
    <input type="hidden" name="${DASHBOARD_CSRF_FIELD}" value="${context.csrfToken}" /><button
      type="submit"
      aria-label="${label} (${row.login ?? row.userId})"
    >
      ${label}
    </button>
  </form> `;
}

function instant(at: number | null, now: number): SafeHtml | string {
  return at === null ? 'never' : htmlTemplate`<time datetime="${new Date(at).toISOString()}">${formatRelative(at, now)}</time>`;
}

function revocations(snapshot: DashboardSnapshot): SafeHtml | string {
  if (snapshot.revocations.length === 0) return '';
  const items = snapshot.revocations.map(
    (r) =>
      htmlTemplate`<li data-user-id="${r.userId}">
        <span class="badge bad" data-state="revoked">revoked</span> ${r.login ?? r.userId} (user id ${r.userId}),
        ${formatRelative(r.at, snapshot.now)}: ${r.reason}
      </li>`,
  );
  return htmlTemplate`<section>
    <h2>Recently revoked</h2>
    <ul>
      ${items}
    </ul>
  </section>`;
}

function maintenance(snapshot: DashboardSnapshot): SafeHtml {
  const { maintenance: m, backlog, health, now } = snapshot;
  const tone = health.status === 'up' ? 'good' : health.status === 'degraded' ? 'warn' : 'bad';
  return htmlTemplate`<section>
    <h2>Maintenance</h2>
    <dl>
      <dt>Health</dt>
      <dd><span class="badge ${tone}">${health.status}</span> ${health.message ?? ''}</dd>
      <dt>Backlog</dt>
      <dd>
        ${
          backlog
            ? `${backlog.overdueValidation} overdue for validation, ${backlog.overdueRefresh} overdue for refresh, ${backlog.reauthRequired ?? 'unknown'} needing re-authorization`
            : 'could not be counted'
        }
      </dd>
      <dt>Last tick</dt>
      <dd>
        ${m.lastTick ? `${formatRelative(m.lastTick.finishedAt.getTime(), now)} (${m.lastTick.refreshed} refreshed, ${m.lastTick.validated} validated, ${m.lastTick.failed} failed)` : 'none yet'}
      </dd>
      <dt>Next tick</dt>
      <dd>${m.enabled ? formatRelative(m.nextTickAt?.getTime() ?? null, now) : 'maintenance is disabled'}</dd>
    </dl>
  </section>`;
}

function eventSub(snapshot: DashboardSnapshot): SafeHtml {
  const subscriptions = snapshot.subscriptions;
  let summary: SafeHtml | string;
  if (subscriptions === null) summary = 'EventSub is not configured.';
  else if ('error' in subscriptions) summary = htmlTemplate`Subscriptions could not be listed: ${subscriptions.error}`;
  else if (subscriptions.length === 0) summary = 'No subscriptions.';
  else
    summary = htmlTemplate`<ul>
      ${subscriptions.map((s: SubscriptionCount) => htmlTemplate`<li>${s.transport}, ${s.status}: ${s.count}</li>`)}
    </ul>`;
  const notifications =
    snapshot.notifications.length === 0
      ? htmlTemplate`<p>No notification received since this instance started.</p>`
      : htmlTemplate`<ol>
          ${snapshot.notifications.map(
            (n) =>
              htmlTemplate`<li>
                ${n.type} v${n.version}${n.transport ? ` over ${n.transport}` : ''}, ${formatRelative(n.receivedAt, snapshot.now)} (message
                ${n.messageId})
              </li>`,
          )}
        </ol>`;
  return htmlTemplate`<section>
    <h2>EventSub</h2>
    <h3>Subscriptions</h3>
    ${summary}
    ${heldTransports(snapshot)}
    <h3>Last notifications</h3>
    ${notifications}
  </section>`;
}

/** What this instance holds of the transports shared by instances: users' WebSocket sockets, conduit shards. */
function heldTransports({ held, now }: DashboardSnapshot): SafeHtml | string {
  const { webSocket, conduit } = held;
  if (!webSocket && !conduit) return '';
  return htmlTemplate`<h3>Held by this instance</h3>
    <ul>
      ${
        webSocket
          ? htmlTemplate`<li>
              WebSocket sockets of ${webSocket.usersHeld} of ${webSocket.users} user(s) with stored subscriptions,
              ${webSocket.instances} instance(s) sharing them; last round
              ${formatRelative(webSocket.lastRoundAt ? Date.parse(webSocket.lastRoundAt) : null, now)}${webSocket.lastError ? `: ${webSocket.lastError}` : ''}
            </li>`
          : ''
      }
      ${
        conduit
          ? htmlTemplate`<li>
              Conduit ${conduit.conduitId ?? '(not found yet)'}: shard(s) ${conduit.shardsHeld.join(', ') || 'none'} of ${conduit.shardCount},
              ${conduit.instances} instance(s)${conduit.shardsDisabled.length ? `; not associated: ${conduit.shardsDisabled.join(', ')}` : ''}${conduit.lastError ? `; ${conduit.lastError}` : ''}
            </li>`
          : ''
      }
    </ul>`;
}
