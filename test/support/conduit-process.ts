import { join } from 'node:path';
import type { EventSubConduitOptions, EventSubConduitStatus } from '../../src/twitch-auth/index.js';
import { AppProcess } from './app-process.js';
import { ROOT } from './build.js';

/** The fixture script (plain JavaScript over `dist/`). */
export const CONDUIT_PROCESS_SCRIPT = join(ROOT, 'test/support/conduit-process.fixture.mjs');

/** How a `ConduitProcess` is set up. */
export interface ConduitProcessConfig {
  databaseUrl: string;
  clientId: string;
  clientSecret: string;
  idBaseUrl: string;
  helixBaseUrl: string;
  webSocketUrl: string;
  conduit: EventSubConduitOptions;
}

/**
 * One application process (`conduit-process.fixture.mjs`) holding some of a
 * conduit's shards. It reports each dispatched notification's message id
 * (`dispatched`), and its shard status on request.
 */
export class ConduitProcess extends AppProcess<string> {
  /** Starts the process and resolves once its application is initialized (within `timeoutMs`). */
  static start(name: string, config: ConduitProcessConfig, timeoutMs = 60_000): Promise<ConduitProcess> {
    const launch = { kind: 'conduit process', script: CONDUIT_PROCESS_SCRIPT, configVariable: 'CONDUIT_PROCESS_CONFIG', config };
    return AppProcess.launch(
      launch,
      timeoutMs,
      (child) => new ConduitProcess(name, child, launch.kind, (line) => (JSON.parse(line) as { dispatched: string }).dispatched),
    );
  }

  /** The process's shard status; rejects after `timeoutMs`. */
  status(timeoutMs = 20_000): Promise<EventSubConduitStatus> {
    return this.call('status', {}, timeoutMs) as Promise<EventSubConduitStatus>;
  }
}
