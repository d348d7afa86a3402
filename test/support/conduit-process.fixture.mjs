// One application process sharing an EventSub conduit with others (see eventsub-process.fixture-app.mjs),
// configured by the CONDUIT_PROCESS_CONFIG environment variable (JSON, see test/support/conduit-process.ts).
// Reports each dispatched notification's message id and type; answers { op: 'status' } with the shard status.
import { EventSubConduitShards } from '../../dist/twitch-auth/index.js';
import { runEventSubProcess } from './eventsub-process.fixture-app.mjs';

const config = JSON.parse(process.env.CONDUIT_PROCESS_CONFIG ?? '{}');

await runEventSubProcess({
  config,
  eventSub: { conduit: config.conduit },
  line: (payload) => ({ type: payload.subscription.type }),
  operations: (app) => ({ status: () => app.get(EventSubConduitShards).status() }),
  owner: (app) => app.get(EventSubConduitShards).owner,
});
