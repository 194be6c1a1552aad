// The agent's clock: hrtime plus the wall-clock offset until perf_hooks is there, then
// performance.now() on the same clock — the same instants either way, and never backwards at the switch.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { createClock, hrtimeMs } from '../../src/agent/clock';

const OFFSET = 1_795_000_000_000.25;
/** The clock's µs rounding, and the float error of numbers this large. */
const SLACK_MS = 0.002;

/** Reads `now` between two hrtime readings: it must fall between them (plus the offset). */
function assertBracketed(now: () => number, what: string): void {
  for (let i = 0; i < 1000; i++) {
    const before = hrtimeMs() + OFFSET;
    const value = now();
    const after = hrtimeMs() + OFFSET;
    assert.ok(value >= before - SLACK_MS && value <= after + SLACK_MS, `${what}: ${value} is not within [${before}, ${after}]`);
  }
}

test('before perf_hooks is used, the clock is hrtime plus the offset, rounded to µs', () => {
  const clock = createClock(OFFSET);
  assertBracketed(clock.now, 'hrtime');
  const value = clock.now();
  assert.equal(Math.round(value * 1000) / 1000, value);
});

test('after usePerformance, readings are the same instants on the same scale, and time does not go back at the switch', () => {
  const clock = createClock(OFFSET);
  const readings: number[] = [];
  for (let i = 0; i < 1000; i++) readings.push(clock.now());
  clock.usePerformance(performance);
  for (let i = 0; i < 1000; i++) readings.push(clock.now());
  for (let i = 1; i < readings.length; i++) assert.ok(readings[i] >= readings[i - 1] - SLACK_MS, `reading ${i} went back: ${readings[i - 1]} → ${readings[i]}`);
  assertBracketed(clock.now, 'performance');
});

test('the first performance given stays: a second one is ignored', () => {
  const clock = createClock(OFFSET);
  clock.usePerformance(performance);
  clock.usePerformance({ now: () => 42 } as unknown as typeof performance);
  assertBracketed(clock.now, 'after a second usePerformance');
});
