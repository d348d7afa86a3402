import { toEventSubEvent, toEventSubSubscription } from './eventsub.converters.js';

const broadcasterWire = { broadcaster_user_id: '1337', broadcaster_user_login: 'cool_streamer', broadcaster_user_name: 'Cool_Streamer' };
const broadcaster = { broadcasterUserId: '1337', broadcasterUserLogin: 'cool_streamer', broadcasterUserName: 'Cool_Streamer' };
const userWire = { user_id: '1234', user_login: 'cool_user', user_name: 'Cool_User' };
const user = { userId: '1234', userLogin: 'cool_user', userName: 'Cool_User' };

describe('EventSub converters', () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    [
      'channel.follow',
      { ...userWire, ...broadcasterWire, followed_at: '2024-05-01T12:00:00.123456789Z' },
      { ...user, ...broadcaster, followedAt: new Date('2024-05-01T12:00:00.123Z') },
    ],
    [
      'stream.online',
      { id: '9001', ...broadcasterWire, type: 'live', started_at: '2024-05-01T12:00:00Z' },
      { id: '9001', ...broadcaster, type: 'live', startedAt: new Date('2024-05-01T12:00:00Z') },
    ],
    ['stream.offline', { ...broadcasterWire }, { ...broadcaster }],
    [
      'channel.subscribe',
      { ...userWire, ...broadcasterWire, tier: '1000', is_gift: true },
      { ...user, ...broadcaster, tier: '1000', isGift: true },
    ],
    [
      'channel.cheer',
      { is_anonymous: true, user_id: null, user_login: null, user_name: null, ...broadcasterWire, message: 'pogchamp', bits: 1000 },
      { isAnonymous: true, userId: null, userLogin: null, userName: null, ...broadcaster, message: 'pogchamp', bits: 1000 },
    ],
    [
      'channel.raid',
      {
        from_broadcaster_user_id: '1',
        from_broadcaster_user_login: 'a',
        from_broadcaster_user_name: 'A',
        to_broadcaster_user_id: '2',
        to_broadcaster_user_login: 'b',
        to_broadcaster_user_name: 'B',
        viewers: 9001,
      },
      {
        fromBroadcasterUserId: '1',
        fromBroadcasterUserLogin: 'a',
        fromBroadcasterUserName: 'A',
        toBroadcasterUserId: '2',
        toBroadcasterUserLogin: 'b',
        toBroadcasterUserName: 'B',
        viewers: 9001,
      },
    ],
  ])('turns a %s event into its camelCase type, every field', (type, wire, expected) => {
    expect(toEventSubEvent(type, wire)).toEqual(expected);
  });

  it('turns a channel.chat.message event, with fragments, badges, cheer and reply', () => {
    const wire = {
      ...broadcasterWire,
      chatter_user_id: '4145994',
      chatter_user_login: 'viptest',
      chatter_user_name: 'viptest',
      message_id: 'cc106a89-1814-919d-454c-f4f2f970aae7',
      message: {
        text: 'Hi chat Kappa',
        fragments: [
          { type: 'text', text: 'Hi chat ', cheermote: null, emote: null, mention: null },
          {
            type: 'emote',
            text: 'Kappa',
            cheermote: null,
            emote: { id: '25', emote_set_id: '0', owner_id: null, format: ['static'] },
            mention: null,
          },
        ],
      },
      color: '#00FF7F',
      badges: [{ set_id: 'vip', id: '1', info: '' }],
      message_type: 'text',
      cheer: { bits: 5 },
      reply: {
        parent_message_id: 'p1',
        parent_message_body: 'hello',
        parent_user_id: '1',
        parent_user_name: 'One',
        parent_user_login: 'one',
        thread_message_id: 't1',
        thread_user_id: '2',
        thread_user_name: 'Two',
        thread_user_login: 'two',
      },
      channel_points_custom_reward_id: null,
    };
    expect(toEventSubEvent('channel.chat.message', wire)).toEqual({
      ...broadcaster,
      chatterUserId: '4145994',
      chatterUserLogin: 'viptest',
      chatterUserName: 'viptest',
      messageId: 'cc106a89-1814-919d-454c-f4f2f970aae7',
      text: 'Hi chat Kappa',
      fragments: [
        { type: 'text', text: 'Hi chat ', cheermote: null, emote: null, mention: null },
        {
          type: 'emote',
          text: 'Kappa',
          cheermote: null,
          emote: { id: '25', emoteSetId: '0', ownerId: null, format: ['static'] },
          mention: null,
        },
      ],
      messageType: 'text',
      badges: [{ setId: 'vip', id: '1', info: '' }],
      cheerBits: 5,
      color: '#00FF7F',
      reply: {
        parentMessageId: 'p1',
        parentMessageBody: 'hello',
        parentUserId: '1',
        parentUserName: 'One',
        parentUserLogin: 'one',
        threadMessageId: 't1',
        threadUserId: '2',
        threadUserName: 'Two',
        threadUserLogin: 'two',
      },
      channelPointsCustomRewardId: null,
    });
  });

  it('fills missing fields with empty values instead of throwing, and passes unknown types through as sent', () => {
    const follow = toEventSubEvent('channel.follow', {}) as Record<string, unknown>;
    expect(follow).toMatchObject({ userId: '', broadcasterUserId: '', broadcasterUserName: '' });
    expect(Number.isNaN((follow.followedAt as Date).getTime())).toBe(true);
    const raw = { anything: ['as', 'sent'] };
    expect(toEventSubEvent('channel.unknown_type', raw)).toBe(raw);
    expect(toEventSubEvent('toString', raw)).toBe(raw);
  });

  it('turns a subscription into its camelCase form', () => {
    expect(
      toEventSubSubscription({
        id: 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4',
        status: 'enabled',
        type: 'channel.follow',
        version: '2',
        cost: 0,
        condition: { broadcaster_user_id: '1337', moderator_user_id: '1337', ignored: 5 } as unknown as Record<string, string>,
        transport: { method: 'webhook', callback: 'https://example.com/eventsub/callback' },
        created_at: '2024-05-01T12:00:00.000000000Z',
      }),
    ).toEqual({
      id: 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4',
      status: 'enabled',
      type: 'channel.follow',
      version: '2',
      cost: 0,
      condition: { broadcaster_user_id: '1337', moderator_user_id: '1337' },
      transport: { method: 'webhook', callback: 'https://example.com/eventsub/callback' },
      createdAt: new Date('2024-05-01T12:00:00Z'),
    });
  });
});
