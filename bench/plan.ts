import type { ConduitFailoverPlan } from './suites/conduit-failover.suite.js';
import type { MaintenanceScalePlan } from './suites/maintenance-scale.suite.js';

/** Sizes, rounds and durations of one run; `--quick` shrinks them for a smoke check. */
export interface BenchPlan {
  quick: boolean;
  b1: { users: number; callsPerSample: number; rounds: number };
  b2: { users: number; callers: number; rounds: number; latencyMs: number };
  b2x: { users: number; callers: number; rounds: number; latencyMs: number };
  b3: { connections: number; durationSeconds: number; warmupSeconds: number; rounds: number };
  b4: { sizes: number[]; due: number; rounds: number; concurrency: number };
  b5: { users: number };
  b6: { messages: number; rounds: number };
  b7: ConduitFailoverPlan;
  b8: { calls: number; concurrency: number; rounds: number };
  b8b: { calls: number; points: number; windowMs: number; rounds: number };
  b9: MaintenanceScalePlan;
}

export function planFor(quick: boolean): BenchPlan {
  return quick
    ? {
        quick: true,
        b1: { users: 10_000, callsPerSample: 100_000, rounds: 5 },
        b2: { users: 1_000, callers: 50, rounds: 2, latencyMs: 20 },
        b2x: { users: 200, callers: 10, rounds: 2, latencyMs: 20 },
        b3: { connections: 32, durationSeconds: 2, warmupSeconds: 1, rounds: 1 },
        b4: { sizes: [1_000, 10_000, 100_000], due: 1_000, rounds: 1, concurrency: 8 },
        b5: { users: 100_000 },
        b6: { messages: 5_000, rounds: 1 },
        b7: { runs: 1, instances: 3, shards: 4, leaseSeconds: 5, renewSeconds: 1 },
        b8: { calls: 2_000, concurrency: 32, rounds: 1 },
        b8b: { calls: 2_000, points: 800, windowMs: 10_000, rounds: 1 },
        b9: { users: 100_000, slice: 10_000, concurrency: 128, instances: 4, pairs: 1, latencyMs: 50 },
      }
    : {
        quick: false,
        b1: { users: 10_000, callsPerSample: 200_000, rounds: 10 },
        b2: { users: 1_000, callers: 50, rounds: 5, latencyMs: 20 },
        b2x: { users: 200, callers: 10, rounds: 5, latencyMs: 20 },
        b3: { connections: 32, durationSeconds: 5, warmupSeconds: 3, rounds: 4 },
        b4: { sizes: [10_000, 100_000, 1_000_000], due: 1_000, rounds: 3, concurrency: 8 },
        b5: { users: 100_000 },
        b6: { messages: 20_000, rounds: 8 },
        b7: { runs: 3, instances: 3, shards: 4, leaseSeconds: 5, renewSeconds: 1 },
        b8: { calls: 10_000, concurrency: 32, rounds: 5 },
        b8b: { calls: 2_000, points: 800, windowMs: 10_000, rounds: 3 },
        b9: { users: 1_000_000, slice: 50_000, concurrency: 128, instances: 4, pairs: 3, latencyMs: 50 },
      };
}
