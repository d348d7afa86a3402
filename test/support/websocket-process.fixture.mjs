// One application process sharing users' EventSub WebSocket sockets with others (see
// eventsub-process.fixture-app.mjs), configured by the WEBSOCKET_PROCESS_CONFIG environment variable (JSON, see
// test/support/websocket-process.ts). Reports each dispatched notification's message id and broadcaster.
// Operations: status (with the session ids per held user), addUser, subscribe.
import { EventSubService, EventSubWebSocketTransport, TokenService } from '../../dist/twitch-auth/index.js';
import { runEventSubProcess } from './eventsub-process.fixture-app.mjs';

const config = JSON.parse(process.env.WEBSOCKET_PROCESS_CONFIG ?? '{}');

await runEventSubProcess({
  config,
  eventSub: { webSocket: config.webSocket },
  line: (payload) => ({ userId: payload.subscription.condition.broadcaster_user_id ?? null }),
  operations: (app) => {
    const transport = app.get(EventSubWebSocketTransport);
    return {
      status: () => {
        const status = transport.status();
        return { ...status, sockets: Object.fromEntries(status.usersHeld.map((userId) => [userId, transport.sessionIds(userId)])) };
      },
      addUser: ({ accessToken, refreshToken }) =>
        app
          .get(TokenService)
          .addUser(accessToken, refreshToken)
          .then(() => null),
      subscribe: ({ type, version, condition, userId }) =>
        app.get(EventSubService).subscribe(type, version, condition, { transport: 'websocket', userId }),
    };
  },
  owner: (app) => app.get(EventSubWebSocketTransport).status().owner,
});
