/**
 * The agent's timestamps: wall-clock ms with µs precision, comparable across threads and processes
 * (one monotonic clock plus one wall-clock offset per thread, so they never jump with NTP).
 *
 * `process.hrtime.bigint()` and `performance.now()` read the same monotonic clock (libuv's), but the
 * BigInt costs an allocation and ~30 ns more a reading, and the lock and queue bookkeeping reads the
 * clock several times a job. A worker loads perf_hooks only at its first sample (≈0.7 ms of start-up
 * a short-lived worker never pays), so it reads hrtime until then.
 */
import type { BuiltinMap } from './builtins';

type Performance = BuiltinMap['perf_hooks']['performance'];

export interface AgentClock {
  /** Wall-clock ms, rounded to µs. */
  now: () => number;
  /** Reads `performance.now()` from now on (same clock, no BigInt). */
  usePerformance: (performance: Performance) => void;
}

/** Monotonic ms from process.hrtime. */
export function hrtimeMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A clock whose monotonic ms plus `offsetMs` is the wall clock. */
export function createClock(offsetMs: number): AgentClock {
  let performance: Performance | undefined;
  // performance.now() + fromPerformance = the hrtime ms of the same instant, offset included.
  let fromPerformance = 0;
  return {
    now: () => Math.round((performance !== undefined ? performance.now() + fromPerformance : hrtimeMs() + offsetMs) * 1000) / 1000,
    usePerformance: (given) => {
      if (performance !== undefined) return;
      // Each performance reading is bracketed by two hrtime readings, whose midpoint is then within
      // half the bracket of it; the narrowest of a few brackets wins (the first call of now() may
      // be slow: a lazy compile would put tens of µs between the readings).
      let narrowest = Infinity;
      for (let attempt = 0; attempt < 4; attempt++) {
        const before = hrtimeMs();
        const reading = given.now();
        const after = hrtimeMs();
        if (after - before >= narrowest) continue;
        narrowest = after - before;
        fromPerformance = (before + after) / 2 - reading + offsetMs;
      }
      performance = given;
    },
  };
}
