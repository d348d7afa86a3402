import type { DashboardSnapshot } from './dashboard-snapshot.js';
import { dashboardPage, type DashboardPageContext } from './dashboard.page.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

const context: DashboardPageContext = {
  path: '/ops',
  csrfToken: 'csrf',
  scriptNonce: 'nonce',
  notice: null,
  flash: null,
  authorizeHref: null,
  reauthorizeHref: () => null,
};

function snapshot(held: DashboardSnapshot['held']): DashboardSnapshot {
  return {
    now: NOW,
    filter: null,
    tokens: [],
    totalTokens: 0,
    maintenance: {
      enabled: false,
      running: false,
      instanceId: 'host:1:abcd',
      ticks: 0,
      skippedTicks: 0,
      lastTickStartedAt: null,
      nextTickAt: null,
      lastTick: null,
      lastTickError: null,
      totals: { refreshed: 0, validated: 0, reauthRequired: 0, failed: 0, skipped: 0 },
    },
    backlog: null,
    health: { status: 'degraded', message: null },
    subscriptions: null,
    held,
    notifications: [],
    revocations: [],
    activity: [],
  };
}

describe('the dashboard page, transports held by this instance', () => {
  it('shows the conduit shards held and not associated, and escapes a lease error', () => {
    const html = dashboardPage(
      snapshot({
        conduit: {
          conduitId: 'conduit-7',
          shardsHeld: [0, 2],
          shardsDisabled: [2],
          lastAssociationAt: null,
          instances: 2,
          shardCount: 4,
          lastError: '<b>database</b> unreachable',
        },
      }),
      context,
    );
    expect(html).toContain('Held by this instance');
    expect(html).toMatch(
      /Conduit conduit-7: shard\(s\) 0, 2 of 4,\s+2 instance\(s\); not associated: 2; &lt;b&gt;database&lt;\/b&gt; unreachable/,
    );
    expect(html).not.toContain('WebSocket sockets of');
  });

  it('leaves the part out when no shared transport is in use', () => {
    expect(dashboardPage(snapshot({}), context)).not.toContain('Held by this instance');
  });
});
