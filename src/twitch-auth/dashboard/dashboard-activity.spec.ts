import { ACTIVITY_BUCKETS, ACTIVITY_BUCKET_MS, ActivityLog, RECENT_LIMIT } from './dashboard-activity.js';
import { htmlTemplate, SafeHtml } from './dashboard-html.js';
import type { EventSubNotification } from '../eventsub/eventsub.types.js';

describe('ActivityLog', () => {
  it('counts per 15-minute bucket over 24 hours, and forgets what is older', () => {
    let now = 1_000 * ACTIVITY_BUCKET_MS;
    const log = new ActivityLog(() => now);
    log.count('refreshed');
    log.count('refreshed');
    now += ACTIVITY_BUCKET_MS;
    log.count('failed');
    let buckets = log.buckets();
    expect(buckets).toHaveLength(ACTIVITY_BUCKETS);
    expect(buckets.at(-2)).toMatchObject({ refreshed: 2, failed: 0 });
    expect(buckets.at(-1)).toMatchObject({ refreshed: 0, failed: 1 });

    // A day later the same ring slots hold new buckets: the old counts are gone, not added to.
    now += ACTIVITY_BUCKETS * ACTIVITY_BUCKET_MS;
    log.count('validated');
    buckets = log.buckets();
    expect(buckets.reduce((sum, b) => sum + b.refreshed + b.failed, 0)).toBe(0);
    expect(buckets.at(-1)).toMatchObject({ validated: 1, refreshed: 0, failed: 0 });
  });

  it('keeps only the last notifications and revocations, newest first, without the event', () => {
    const log = new ActivityLog();
    for (let i = 0; i < RECENT_LIMIT + 5; i++) {
      log.notification({
        subscription: { type: 'channel.follow', version: '2', transport: { method: 'webhook', callback: null } },
        event: { userLogin: 'someone' },
        messageId: `m${i}`,
      } as unknown as EventSubNotification);
      log.revoked(`u${i}`, null, 'gone');
    }
    const notifications = log.recentNotifications();
    expect(notifications).toHaveLength(RECENT_LIMIT);
    expect(notifications[0]).toEqual({
      type: 'channel.follow',
      version: '2',
      transport: 'webhook',
      messageId: `m${RECENT_LIMIT + 4}`,
      receivedAt: expect.any(Number),
    });
    expect(log.recentRevocations().map((r) => r.userId)).toHaveLength(RECENT_LIMIT);
  });
});

describe('htmlTemplate', () => {
  it('escapes every interpolated value unless it is SafeHtml', () => {
    const login = `<b onclick='x'>&"`;
    expect(htmlTemplate`<td>${login}</td>`.markup).toBe('<td>&lt;b onclick=&#39;x&#39;&gt;&amp;&quot;</td>');
    expect(htmlTemplate`<tr>${[htmlTemplate`<td>${'<'}</td>`, '<']}</tr>`.markup).toBe('<tr><td>&lt;</td>&lt;</tr>');
    expect(htmlTemplate`${null}${undefined}${false}${0}`.markup).toBe('0');
    expect(htmlTemplate`${new SafeHtml('<i>ok</i>')}`.markup).toBe('<i>ok</i>');
  });
});
