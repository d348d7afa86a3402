// Preload for one process (`node --import <this file>`, or NODE_OPTIONS=--import=<this file>) that runs its
// wall clock ahead by CLOCK_AHEAD_MS milliseconds: Date.now() and new Date() are shifted, every other
// process keeps the real time. The monotonic clock (performance.now, timers) is untouched, as it is when a
// real machine's wall clock is wrong. Plain JavaScript, so node loads it before anything else.
const offsetMs = Number(process.env.CLOCK_AHEAD_MS ?? '0');
if (!Number.isFinite(offsetMs)) throw new Error(`CLOCK_AHEAD_MS must be a number of milliseconds, got "${process.env.CLOCK_AHEAD_MS}"`);

const RealDate = globalThis.Date;

class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }

  static now() {
    return RealDate.now() + offsetMs;
  }
}

globalThis.Date = ShiftedDate;
