// The model at scale: 10,000 live resources and tasks give the right findings (none, or the one
// cycle), whatever the shape. The figures are printed as diagnostics only; the cost per event is
// measured by `npm run bench` (tests never assert timings).
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Sim, busyGraph } from './resourceGraphSim';

const N = 10_000;

function summary(times: number[]): { median: number; p99: number; max: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], p99: sorted[Math.floor(sorted.length * 0.99)], max: sorted[sorted.length - 1] };
}

function timed(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function report(t: TestContext, what: string, times: number[]): void {
  const s = summary(times);
  t.diagnostic(`${what}: median ${s.median.toFixed(4)} ms, p99 ${s.p99.toFixed(4)} ms, max ${s.max.toFixed(3)} ms over ${times.length} events`);
}

test('10,000 held mutexes and a random waits-for DAG: no finding; a 2-cycle and a cycle through the whole DAG are each found', (t) => {
  const waits: number[] = [];
  const sim = busyGraph(N, (wait) => waits.push(timed(wait)));
  report(t, 'wait among 10k held mutexes (random waits-for DAG)', waits);
  assert.deepEqual(sim.findings, []);
  // A two-task cycle closing among them.
  sim.create('1:0:x', 'mutex', 'x');
  sim.create('1:0:y', 'mutex', 'y');
  sim.take('1:0:tx', '1:0:x');
  sim.take('1:0:ty', '1:0:y');
  sim.wait('1:0:tx', '1:0:y');
  const closing: number[] = [];
  closing.push(timed(() => assert.equal(sim.wait('1:0:ty', '1:0:x').length, 1)));
  // A cycle that closes through a long chain: the last task of the DAG waits for the first mutex.
  closing.push(timed(() => assert.equal(sim.wait(`1:${(N - 1) % 8}:t${N - 1}`, '1:0:r0').length, 1)));
  t.diagnostic(`closing a 2-cycle among 10k: ${closing[0].toFixed(3)} ms; closing through the 10k DAG: ${closing[1].toFixed(3)} ms`);
  const full = timed(() => sim.graph.detectDeadlocks(sim.now));
  t.diagnostic(`full search over ${sim.graph.stats().waits} waiters: ${full.toFixed(2)} ms; long-hold check over ${sim.graph.stats().holds} holds: ${timed(() => sim.graph.checkLongHolds(sim.now, 1e9)).toFixed(2)} ms`);
});

test('a chain of 10,000 waiting tasks: waiters at its head give no finding; closing it gives one deadlock', (t) => {
  const sim = new Sim();
  for (let i = 0; i < N; i++) {
    sim.create(`1:0:r${i}`, 'mutex', `m${i}`);
    sim.take(`1:1:t${i}`, `1:0:r${i}`);
  }
  for (let i = 0; i < N - 1; i++) sim.wait(`1:1:t${i}`, `1:0:r${i + 1}`);
  const waits: number[] = [];
  for (let i = 0; i < 200; i++) waits.push(timed(() => sim.wait(`1:2:h${i}`, '1:0:r0')));
  report(t, 'wait at the head of a 10k chain', waits);
  assert.deepEqual(sim.findings, []);
  const close = timed(() => assert.equal(sim.wait(`1:1:t${N - 1}`, '1:0:r0').length, 1));
  t.diagnostic(`closing the 10k-task cycle: ${close.toFixed(2)} ms`);
});

test('10,000 readers hold an rwlock while 1,000 writers queue: no finding', (t) => {
  const sim = new Sim();
  sim.create('1:0:rw', 'rwlock', 'table');
  for (let i = 0; i < N; i++) sim.take(`1:2:r${i}`, '1:0:rw', { mode: 'shared' });
  const waits: number[] = [];
  for (let i = 0; i < 1_000; i++) waits.push(timed(() => sim.wait(`1:3:w${i}`, '1:0:rw', { mode: 'exclusive' })));
  report(t, 'exclusive wait behind 10k shared holders', waits);
  assert.deepEqual(sim.findings, []);
});
