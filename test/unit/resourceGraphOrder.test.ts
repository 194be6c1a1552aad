import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LockOrderGraph, MAX_ORDER_PAIRS, MAX_SAMPLES_PER_PAIR } from '../../src/model/lockOrder';
import { Sim, at } from './resourceGraphSim';

function twoLocks(sim: Sim, kind: 'mutex' | 'rwlock' = 'mutex'): void {
  sim.create('1:0:a', kind, 'A');
  sim.create('1:0:b', kind, 'B');
}

test('A then B in one task, B then A later in another thread: one inversion warning with both stacks', () => {
  const sim = new Sim();
  twoLocks(sim);
  sim.take('1:0:t1', '1:0:a', { site: at(10, 'pay') });
  assert.deepEqual(sim.take('1:0:t1', '1:0:b', { site: at(11, 'pay') }), []);
  sim.release('1:0:t1', '1:0:b');
  sim.release('1:0:t1', '1:0:a');
  // Much later, never overlapping in time, in worker 2.
  sim.take('1:2:t9', '1:0:b', { site: at(20, 'refund') });
  const [f] = sim.take('1:2:t9', '1:0:a', { site: at(21, 'refund') });
  assert.equal(f?.kind, 'lock-order-inversion');
  assert.equal(f.severity, 'warning');
  assert.deepEqual(
    f.participants.map((p) => [p.role, p.task, p.resource, p.site?.line, p.stack?.[0].line]),
    [
      ['holds', '1:2:t9', '1:0:b', 20, 20],
      ['waits', '1:2:t9', '1:0:a', 21, 21],
      ['holds', '1:0:t1', '1:0:a', 10, 10],
      ['waits', '1:0:t1', '1:0:b', 11, 11],
    ],
  );
  assert.match(f.message, /^Lock-order inversion: 'B' then 'A' at bank\.js:21:5 \(task t9 of worker 2 of pid 1\), but 'A' then 'B' at bank\.js:11:5 \(task t1 of main thread of pid 1\)/);
  // The same orders again, by other tasks at the same sites: no second warning.
  sim.release('1:2:t9', '1:0:a');
  sim.release('1:2:t9', '1:0:b');
  sim.take('1:0:t3', '1:0:a', { site: at(10, 'pay') });
  sim.take('1:0:t3', '1:0:b', { site: at(11, 'pay') });
  sim.release('1:0:t3', '1:0:b');
  sim.release('1:0:t3', '1:0:a');
  sim.take('1:0:t4', '1:0:b', { site: at(20, 'refund') });
  assert.deepEqual(sim.take('1:0:t4', '1:0:a', { site: at(21, 'refund') }), []);
  // A third place taking B then A is a new pair of site pairs.
  sim.release('1:0:t4', '1:0:a');
  sim.release('1:0:t4', '1:0:b');
  sim.take('1:0:t5', '1:0:b', { site: at(30, 'audit') });
  assert.equal(sim.take('1:0:t5', '1:0:a', { site: at(31, 'audit') }).length, 1);
  assert.deepEqual(sim.kinds(), ['lock-order-inversion', 'lock-order-inversion']);
});

test('the bank transfer: the same code locking (from, to) in both directions is an inversion with a stable id', () => {
  const ids: string[] = [];
  for (const pid of [1, 2]) {
    const sim = new Sim();
    sim.create(`${pid}:0:a`, 'mutex', 'accountA');
    sim.create(`${pid}:0:b`, 'mutex', 'accountB');
    const transfer = (task: string, from: string, to: string): void => {
      sim.take(task, from, { site: at(12, 'transfer') });
      sim.take(task, to, { site: at(13, 'transfer') });
      sim.release(task, to);
      sim.release(task, from);
    };
    transfer(`${pid}:0:t1`, `${pid}:0:a`, `${pid}:0:b`);
    transfer(`${pid}:0:t2`, `${pid}:0:b`, `${pid}:0:a`);
    assert.deepEqual(sim.kinds(), ['lock-order-inversion']);
    ids.push(sim.findings[0].id);
  }
  assert.equal(ids[0], ids[1]);
});

test('a common gate lock makes the inversion harmless', () => {
  const sim = new Sim();
  twoLocks(sim);
  sim.create('1:0:g', 'mutex', 'G');
  sim.take('1:0:t1', '1:0:g', { site: at(1) });
  sim.take('1:0:t1', '1:0:a', { site: at(2) });
  sim.take('1:0:t1', '1:0:b', { site: at(3) });
  for (const r of ['1:0:b', '1:0:a', '1:0:g']) sim.release('1:0:t1', r);
  sim.take('1:0:t2', '1:0:g', { site: at(5) });
  sim.take('1:0:t2', '1:0:b', { site: at(6) });
  assert.deepEqual(sim.take('1:0:t2', '1:0:a', { site: at(7) }), []);
  for (const r of ['1:0:a', '1:0:b', '1:0:g']) sim.release('1:0:t2', r);
  // Without the gate, the same orders warn.
  sim.take('1:0:t3', '1:0:b', { site: at(8) });
  assert.equal(sim.take('1:0:t3', '1:0:a', { site: at(9) })[0]?.kind, 'lock-order-inversion');
});

test('no inversion between shared holds, or when an acquisition could give up by itself', () => {
  const sim = new Sim();
  twoLocks(sim, 'rwlock');
  sim.take('1:0:t1', '1:0:a', { mode: 'shared' });
  sim.take('1:0:t1', '1:0:b', { mode: 'shared' });
  sim.release('1:0:t1', '1:0:b');
  sim.release('1:0:t1', '1:0:a');
  sim.take('1:0:t2', '1:0:b', { mode: 'shared' });
  assert.deepEqual(sim.take('1:0:t2', '1:0:a', { mode: 'shared' }), [], 'readers never block readers');
  sim.release('1:0:t2', '1:0:a');
  sim.release('1:0:t2', '1:0:b');
  const timed = new Sim();
  twoLocks(timed);
  timed.take('1:0:t1', '1:0:a');
  timed.take('1:0:t1', '1:0:b');
  timed.release('1:0:t1', '1:0:b');
  timed.release('1:0:t1', '1:0:a');
  timed.take('1:0:t2', '1:0:b');
  assert.deepEqual(timed.take('1:0:t2', '1:0:a', { timeoutMs: 0 }), [], 'tryAcquire / ifAvailable');
  assert.deepEqual(timed.take('1:0:t3', '1:0:a', { timeoutMs: 100 }), []);
});

test('mixed modes: an exclusive hold against a shared request still inverts', () => {
  const sim = new Sim();
  twoLocks(sim, 'rwlock');
  sim.take('1:0:t1', '1:0:a', { mode: 'exclusive' });
  sim.take('1:0:t1', '1:0:b', { mode: 'shared' });
  sim.release('1:0:t1', '1:0:b');
  sim.release('1:0:t1', '1:0:a');
  sim.take('1:0:t2', '1:0:b', { mode: 'exclusive' });
  assert.equal(sim.take('1:0:t2', '1:0:a', { mode: 'shared' }).length, 1);
});

test('counting semaphores take no part in lock order; a binary semaphore does', () => {
  const sim = new Sim();
  sim.create('1:0:m', 'mutex', 'M');
  sim.create('1:0:s', 'semaphore', 'S', { capacity: 4 });
  sim.create('1:0:b', 'semaphore', 'B', { capacity: 1 });
  for (const [task, first, second] of [['1:0:t1', '1:0:m', '1:0:s'], ['1:0:t2', '1:0:s', '1:0:m'], ['1:0:t3', '1:0:m', '1:0:b'], ['1:0:t4', '1:0:b', '1:0:m']]) {
    const n = Number(task.slice(-1));
    sim.take(task, first, { site: at(n) });
    sim.take(task, second, { site: at(100 + n) });
    sim.release(task, second);
    sim.release(task, first);
  }
  assert.deepEqual(sim.kinds(), ['lock-order-inversion']);
  assert.deepEqual(new Set(sim.findings[0].participants.map((p) => p.resource)), new Set(['1:0:m', '1:0:b']));
});

test('memory is bounded: samples per pair and pairs overall', () => {
  const g = new LockOrderGraph();
  const sample = (from: string, to: string, line: number) => ({ from, to, taskId: 't', pid: 1, threadId: 0, fromMode: 'exclusive' as const, toMode: 'exclusive' as const, fromSite: at(line), toSite: at(line + 1), gates: [] });
  for (let i = 0; i < 50; i++) g.record(sample('a', 'b', i * 2));
  assert.equal(g.record(sample('b', 'a', 999)).length, MAX_SAMPLES_PER_PAIR);
  for (let i = 0; i < MAX_ORDER_PAIRS + 10; i++) g.record(sample(`x${i}`, `y${i}`, 1));
  assert.equal(g.size, MAX_ORDER_PAIRS);
  assert.equal(g.droppedPairs, 12);
  g.forget(new Set(['a']));
  assert.equal(g.size, MAX_ORDER_PAIRS - 2);
});

test('a late report of an uncontended acquisition (original ts) keeps the task waiting and orders edges by agent time', () => {
  const sim = new Sim();
  twoLocks(sim);
  sim.create('1:0:c', 'mutex', 'C');
  // t1 took A at ts 1 and B at ts 2 (reported late), then waits for C at ts 5.
  sim.event(1, 0, { type: 'lock-acquired', ts: 1, resourceId: '1:0:a', taskId: '1:0:t1', site: at(1) });
  sim.event(1, 0, { type: 'lock-acquired', ts: 3, resourceId: '1:0:c', taskId: '1:0:t9', site: at(9) });
  sim.event(1, 0, { type: 'lock-wait', ts: 5, resourceId: '1:0:c', taskId: '1:0:t1', site: at(3) });
  // Another task queues for B: the agent now sends t1's old acquisition of B.
  sim.event(1, 0, { type: 'lock-acquired', ts: 2, resourceId: '1:0:b', taskId: '1:0:t1', site: at(2) });
  assert.equal(sim.graph.task('1:0:t1')?.wait?.resourceId, '1:0:c', 'still waiting for C');
  // t2 took B first (ts 10), and A's late report says it took A at ts 8: A then B, the same order as t1.
  sim.event(1, 0, { type: 'lock-acquired', ts: 10, resourceId: '1:0:b', taskId: '1:0:t2', site: at(20) });
  assert.deepEqual(sim.event(1, 0, { type: 'lock-acquired', ts: 8, resourceId: '1:0:a', taskId: '1:0:t2', site: at(21) }), []);
  // B then A for real: an inversion.
  sim.event(1, 0, { type: 'lock-acquired', ts: 20, resourceId: '1:0:b', taskId: '1:0:t3', site: at(30) });
  const [f] = sim.event(1, 0, { type: 'lock-acquired', ts: 21, resourceId: '1:0:a', taskId: '1:0:t3', site: at(31) });
  assert.equal(f?.kind, 'lock-order-inversion');
  assert.deepEqual(f.participants.map((p) => [p.role, p.resource, p.site?.line]).slice(2), [['holds', '1:0:a', 1], ['waits', '1:0:b', 2]]);
});
