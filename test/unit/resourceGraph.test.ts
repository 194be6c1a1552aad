import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Finding } from '../../src/protocol/report';
import { Sim, at } from './resourceGraphSim';

function roles(f: Finding): string[] {
  return f.participants.map((p) => `${p.role} ${p.task} ${p.resource} @${p.site?.line ?? '?'}`);
}

/** Two tellers transfer in opposite directions: t1 takes A then B, t2 takes B then A. */
function bank(sim: Sim, opts: { pid?: number; timeoutMs?: number; line?: number } = {}): Finding[] {
  const pid = opts.pid ?? 1;
  const base = opts.line ?? 10;
  sim.create('1:0:r1', 'mutex', 'accountA', { site: at(2) }, pid);
  sim.create('1:0:r2', 'mutex', 'accountB', { site: at(3) }, pid);
  const t1 = `${pid}:0:t1`;
  const t2 = `${pid}:0:t2`;
  assert.deepEqual(sim.take(t1, '1:0:r1', { site: at(base, 'transfer') }), []);
  assert.deepEqual(sim.take(t2, '1:0:r2', { site: at(base + 10, 'refund') }), []);
  assert.deepEqual(sim.wait(t1, '1:0:r2', { site: at(base + 1, 'transfer') }), [], 'no cycle yet');
  return sim.wait(t2, '1:0:r1', { site: at(base + 11, 'refund'), timeoutMs: opts.timeoutMs });
}

test('a two-mutex cycle is reported the moment it closes, with both sites of each task', () => {
  const sim = new Sim();
  const closing = bank(sim);
  assert.equal(closing.length, 1);
  const f = closing[0];
  assert.equal(f.kind, 'deadlock');
  assert.equal(f.severity, 'error');
  assert.match(f.id, /^deadlock-[0-9a-f]{8}$/);
  assert.equal(f.since, f.time);
  assert.deepEqual(roles(f), [
    'holds 1:0:t2 1:0:r2 @20',
    'waits 1:0:t2 1:0:r1 @21',
    'holds 1:0:t1 1:0:r1 @10',
    'waits 1:0:t1 1:0:r2 @11',
  ]);
  assert.equal(
    f.message,
    "Deadlock: task t2 of main thread of pid 1 (refund at bank.js:21:5) holds 'accountB' and waits for 'accountA'; task t1 of main thread of pid 1 (transfer at bank.js:11:5) holds 'accountA' and waits for 'accountB'",
  );
  assert.ok(f.participants.every((p) => p.stack && p.stack[0].line === p.site?.line));
  // Reported once: a full search and a later bystander add nothing.
  assert.deepEqual(sim.graph.detectDeadlocks(sim.now), []);
  assert.deepEqual(sim.wait('1:0:t3', '1:0:r1', { site: at(40) }), []);
  assert.deepEqual(sim.kinds(), ['deadlock']);
});

test('a wait with a timeout never deadlocks', () => {
  const sim = new Sim();
  assert.deepEqual(bank(sim, { timeoutMs: 500 }), []);
  assert.deepEqual(sim.graph.detectDeadlocks(sim.now), []);
  // It times out; a later blocking wait by the same task closes the cycle for real.
  sim.waitEnded('1:0:t2', '1:0:r1');
  assert.equal(sim.wait('1:0:t2', '1:0:r1', { site: at(21) }).length, 1);
});

test('finding ids depend on sites only: same code in another process gives the same id, other code another', () => {
  const a = bank(new Sim())[0];
  const b = bank(new Sim(), { pid: 77 })[0];
  const c = bank(new Sim(), { line: 50 })[0];
  assert.equal(a.id, b.id);
  assert.notEqual(a.id, c.id);
});

test('bystanders are listed after the cycle, marked, and do not change the id', () => {
  const sim = new Sim();
  sim.create('1:0:r1', 'mutex', 'accountA');
  sim.create('1:0:r2', 'mutex', 'accountB');
  sim.take('1:0:t1', '1:0:r1', { site: at(10, 'transfer') });
  sim.take('1:0:t2', '1:0:r2', { site: at(20, 'refund') });
  sim.wait('1:0:t1', '1:0:r2', { site: at(11, 'transfer') });
  sim.wait('1:0:t3', '1:0:r1', { site: at(30, 'audit') });
  const [f] = sim.wait('1:0:t2', '1:0:r1', { site: at(21, 'refund') });
  assert.equal(f.participants.length, 5);
  const last = f.participants[4];
  assert.equal(last.task, '1:0:t3');
  assert.equal(last.role, 'waits');
  assert.match(last.detail, /^bystander: waits for 'accountA'/);
  assert.match(f.message, /\(1 more task wait behind them\)$/);
  assert.equal(f.id, bank(new Sim())[0].id);
});

test('the same cycle at the same sites in another set of tasks is not reported twice', () => {
  const sim = new Sim();
  bank(sim);
  sim.create('1:0:r3', 'mutex', 'accountA');
  sim.create('1:0:r4', 'mutex', 'accountB');
  sim.take('1:0:t5', '1:0:r3', { site: at(10, 'transfer') });
  sim.take('1:0:t6', '1:0:r4', { site: at(20, 'refund') });
  sim.wait('1:0:t5', '1:0:r4', { site: at(11, 'transfer') });
  assert.deepEqual(sim.wait('1:0:t6', '1:0:r3', { site: at(21, 'refund') }), []);
  assert.equal(sim.findings.length, 1);
});

test('semaphore: a cycle when every permit is held by waiters of the cycle, none while a running task holds one', () => {
  const sim = new Sim();
  sim.create('1:0:s', 'semaphore', 'slots', { capacity: 3 });
  sim.create('1:0:m', 'mutex', 'db');
  sim.take('1:0:t1', '1:0:s', { site: at(1) });
  sim.take('1:0:t2', '1:0:s', { site: at(2) });
  sim.take('1:0:t4', '1:0:s', { site: at(4) }); // t4 runs on with its permit
  sim.take('1:0:t3', '1:0:m', { site: at(3) });
  assert.deepEqual(sim.wait('1:0:t1', '1:0:m', { site: at(11) }), []);
  assert.deepEqual(sim.wait('1:0:t2', '1:0:m', { site: at(12) }), []);
  assert.deepEqual(sim.wait('1:0:t3', '1:0:s', { site: at(13) }), [], 't4 will give its permit back');
  assert.deepEqual(sim.graph.detectDeadlocks(sim.now), []);
  // Now t4 waits for the mutex too: no permit can ever come back.
  const [f] = sim.wait('1:0:t4', '1:0:m', { site: at(14) });
  assert.equal(f?.kind, 'deadlock');
  assert.deepEqual(new Set(f.participants.map((p) => p.task)), new Set(['1:0:t1', '1:0:t2', '1:0:t3', '1:0:t4']));
  assert.equal(f.participants.filter((p) => p.role === 'waits').length, 4);
});

test('semaphore: asking for more permits than are free, with the rest held by the cycle', () => {
  const sim = new Sim();
  sim.create('1:0:s', 'semaphore', 'slots', { capacity: 3 });
  sim.create('1:0:m', 'mutex', 'db');
  sim.take('1:0:t1', '1:0:s', { permits: 2, site: at(1) });
  sim.take('1:0:t2', '1:0:m', { site: at(2) });
  assert.deepEqual(sim.wait('1:0:t2', '1:0:s', { permits: 1, site: at(3) }), [], 'one permit is free');
  sim.release('1:0:t2', '1:0:m');
  sim.waitEnded('1:0:t2', '1:0:s', 'cancelled');
  sim.take('1:0:t2', '1:0:m', { site: at(2) });
  assert.deepEqual(sim.wait('1:0:t1', '1:0:m', { site: at(4) }), []);
  const [f] = sim.wait('1:0:t2', '1:0:s', { permits: 2, site: at(5) });
  assert.equal(f?.kind, 'deadlock');
});

test('rwlock: shared waiters pass shared holders; an exclusive request closes the cycle', () => {
  const sim = new Sim();
  sim.create('1:0:l', 'rwlock', 'config');
  sim.create('1:0:m', 'mutex', 'cache');
  sim.take('1:0:t1', '1:0:l', { mode: 'shared', site: at(1) });
  sim.take('1:0:t2', '1:0:m', { site: at(2) });
  sim.wait('1:0:t1', '1:0:m', { site: at(3) });
  assert.deepEqual(sim.wait('1:0:t2', '1:0:l', { mode: 'shared', site: at(4) }), [], 'shared with shared');
  sim.waitEnded('1:0:t2', '1:0:l');
  const [f] = sim.wait('1:0:t2', '1:0:l', { mode: 'exclusive', site: at(5) });
  assert.equal(f?.kind, 'deadlock');
  assert.match(f.message, /holds 'cache' and waits for 'config'/);
});

test('Web Locks: a shared request queues behind an exclusive one (FIFO), which can close a cycle', () => {
  const sim = new Sim();
  sim.create('weblock:1:config', 'web-lock', 'config');
  sim.create('1:0:m', 'mutex', 'cache');
  sim.take('1:0:t1', 'weblock:1:config', { mode: 'shared', site: at(1) });
  sim.take('1:0:t2', '1:0:m', { site: at(2) });
  sim.wait('1:0:t1', '1:0:m', { site: at(3) });
  // Without a writer queued, t2's shared request would pass; here t3's exclusive request is ahead of it.
  assert.deepEqual(sim.wait('1:1:t3', 'weblock:1:config', { mode: 'exclusive', site: at(4) }), []);
  const [f] = sim.wait('1:0:t2', 'weblock:1:config', { mode: 'shared', site: at(5) });
  assert.equal(f?.kind, 'deadlock');
  assert.deepEqual(new Set(f.participants.filter((p) => p.role === 'waits').map((p) => p.task)), new Set(['1:0:t1', '1:0:t2', '1:1:t3']));
  // The writer holds nothing: it is in the cycle only as the request t2 queues behind.
  assert.equal(f.participants.filter((p) => p.task === '1:1:t3').length, 1);
});

test('Web Locks: shared requests with no writer ahead never deadlock on shared holders', () => {
  const sim = new Sim();
  sim.create('weblock:1:config', 'web-lock', 'config');
  sim.create('1:0:m', 'mutex', 'cache');
  sim.take('1:0:t1', 'weblock:1:config', { mode: 'shared' });
  sim.take('1:0:t2', '1:0:m');
  sim.wait('1:0:t1', '1:0:m');
  assert.deepEqual(sim.wait('1:0:t2', 'weblock:1:config', { mode: 'shared' }), []);
  assert.deepEqual(sim.graph.detectDeadlocks(sim.now), []);
});

test('Web Locks steal: the holder loses the lock at the steal; its later release is no news, not a release by a non-holder', () => {
  const sim = new Sim();
  sim.create('weblock:1:report', 'web-lock', 'report');
  sim.create('1:0:m', 'mutex', 'cache');
  sim.take('1:0:writer', 'weblock:1:report');
  // The writer waits for a mutex the auditor holds; the auditor then steals the report lock.
  sim.take('1:0:auditor', '1:0:m');
  sim.wait('1:0:writer', '1:0:m');
  // A steal request never waits (the agent sends it with timeoutMs 0), so it closes no cycle.
  assert.deepEqual(sim.wait('1:0:auditor', 'weblock:1:report', { timeoutMs: 0 }), []);
  assert.deepEqual(sim.event(1, 0, { type: 'lock-acquired', ts: 0, resourceId: 'weblock:1:report', taskId: '1:0:auditor', steal: true }), []);
  assert.deepEqual([...(sim.graph.resource('weblock:1:report')?.holders.keys() ?? [])], ['1:0:auditor']);
  assert.deepEqual(sim.graph.detectDeadlocks(sim.now), [], 'the steal broke the cycle');
  assert.deepEqual(sim.release('1:0:writer', 'weblock:1:report'), []);
  assert.deepEqual([...(sim.graph.resource('weblock:1:report')?.holders.keys() ?? [])], ['1:0:auditor'], "the writer's late release leaves the auditor's hold");
  assert.deepEqual(sim.release('1:0:auditor', 'weblock:1:report'), []);
  assert.deepEqual(sim.findings, []);
});

test('keyed locks: a resource per key; keys taken in opposite orders deadlock', () => {
  const sim = new Sim();
  sim.create('1:0:k', 'keyed-lock', 'locks');
  sim.take('1:0:t1', '1:0:k', { key: 'alice', site: at(1) });
  sim.take('1:0:t2', '1:0:k', { key: 'bob', site: at(2) });
  assert.deepEqual(sim.wait('1:0:t1', '1:0:k', { key: 'bob', site: at(3) }), []);
  const [f] = sim.wait('1:0:t2', '1:0:k', { key: 'alice', site: at(4) });
  assert.equal(f?.kind, 'deadlock');
  assert.match(f.message, /holds 'locks\["bob"\]' and waits for 'locks\["alice"\]'/);
  assert.deepEqual(new Set(f.participants.map((p) => p.resource)), new Set(['1:0:k["alice"]', '1:0:k["bob"]']));
  // Keys are forgotten when idle.
  const other = new Sim();
  other.create('1:0:k', 'keyed-lock', 'locks');
  other.take('1:0:t1', '1:0:k', { key: 'x' });
  other.release('1:0:t1', '1:0:k', { key: 'x' });
  assert.deepEqual(other.graph.stats(), { resources: 1, tasks: 0, holds: 0, waits: 0, orderPairs: 0 });
});

test('self-deadlock: waiting for a non-reentrant lock the task holds, at once, with both sites', () => {
  const sim = new Sim();
  sim.create('1:0:m', 'mutex', 'state', { library: 'async-mutex@0.5.0' });
  sim.take('1:0:t1', '1:0:m', { site: at(5, 'update') });
  const [f] = sim.wait('1:0:t1', '1:0:m', { site: at(9, 'save') });
  assert.equal(f.kind, 'self-deadlock');
  assert.deepEqual(roles(f), ['holds 1:0:t1 1:0:m @5', 'waits 1:0:t1 1:0:m @9']);
  assert.match(f.message, /^Self-deadlock: task t1 of main thread of pid 1 \(save at bank\.js:9:5\) waits for 'state', which it already holds \(taken at bank\.js:5:5\) — async-mutex@0\.5\.0 mutex is not reentrant$/);
  assert.deepEqual(sim.graph.detectDeadlocks(sim.now), [], 'not also reported as a deadlock');
});

test('self-deadlock: not for reentrant locks, timed waits, or semaphores with permits to spare', () => {
  const sim = new Sim();
  sim.create('1:0:r', 'mutex', 're', { reentrant: true });
  sim.take('1:0:t1', '1:0:r');
  assert.deepEqual(sim.take('1:0:t1', '1:0:r'), []);
  sim.create('1:0:m', 'mutex', 'm');
  sim.take('1:0:t2', '1:0:m');
  assert.deepEqual(sim.wait('1:0:t2', '1:0:m', { timeoutMs: 100 }), []);
  sim.create('1:0:s', 'semaphore', 's', { capacity: 2 });
  sim.take('1:0:t3', '1:0:s');
  assert.deepEqual(sim.wait('1:0:t3', '1:0:s'), []);
  sim.create('1:0:s2', 'semaphore', 's2', { capacity: 2 });
  sim.take('1:0:t4', '1:0:s2', { permits: 2 });
  assert.equal(sim.wait('1:0:t4', '1:0:s2')[0]?.kind, 'self-deadlock');
  sim.create('weblock:1:w', 'web-lock', 'w');
  sim.take('1:0:t5', 'weblock:1:w', { mode: 'shared' });
  const [upgrade] = sim.wait('1:0:t5', 'weblock:1:w', { mode: 'exclusive' });
  assert.match(upgrade.message, /holds it shared and asks for it exclusive/);
});

test('a long cycle is found from its closing wait and summarised', () => {
  const sim = new Sim();
  const n = 1000;
  for (let i = 0; i < n; i++) {
    sim.create(`1:0:r${i}`, 'mutex', `m${i}`);
    sim.take(`1:0:t${i}`, `1:0:r${i}`, { site: at(i + 1) });
  }
  for (let i = 0; i < n - 1; i++) assert.deepEqual(sim.wait(`1:0:t${i}`, `1:0:r${i + 1}`, { site: at(2000 + i) }), []);
  const [f] = sim.wait(`1:0:t${n - 1}`, '1:0:r0', { site: at(5000) });
  assert.equal(f.kind, 'deadlock');
  assert.match(f.message, /; and 994 more tasks$/);
  assert.equal(f.participants.length, 100, '50 members, two participants each');
});

test('a thread blocked in Atomics.wait freezes its async tasks: a cycle through a frozen holder', () => {
  const sim = new Sim();
  sim.create('futex:1:0:1:0', 'futex', 'lockF', { library: 'atomics' });
  sim.create('futex:1:0:1:4', 'futex', 'lockG', { library: 'atomics' });
  // Worker 1's async task t1 holds F (a waitAsync-based lock: the agent names the task as holder).
  sim.take('1:1:t1', 'futex:1:0:1:0', { site: at(1, 'job') });
  sim.take('thread:1:0', 'futex:1:0:1:4', { site: at(2, 'main') });
  const block = (byteOffset: number) => ({ type: 'block' as const, ts: 0, on: { kind: 'atomics.wait' as const, buffer: { id: '1:0:1', byteLength: 8 }, index: byteOffset / 4, byteOffset, value: 1, timeoutMs: null }, stack: [] });
  // Worker 1 blocks in Atomics.wait for G: t1 can no longer run, but the main thread may still release G.
  assert.deepEqual(sim.wait('thread:1:1', 'futex:1:0:1:4', { site: at(3, 'lockG') }), []);
  assert.deepEqual(sim.graph.observeAgentEvent(1, 1, block(4), sim.now), []);
  assert.deepEqual(sim.graph.observeAgentEvent(1, 0, block(0), sim.now), []);
  // The main thread now waits for F, which only t1 can release.
  const [f] = sim.wait('thread:1:0', 'futex:1:0:1:0', { site: at(4, 'lockF') });
  assert.equal(f?.kind, 'deadlock');
  assert.equal(
    f.message,
    "Deadlock: main thread of pid 1 (lockF at bank.js:4:5) holds 'lockG' and waits for 'lockF'; task t1 of worker 1 of pid 1 (job at bank.js:1:5) holds 'lockF' but cannot run while its thread waits for 'lockG'; worker 1 of pid 1 (lockG at bank.js:3:5) waits for 'lockG'",
  );
  // Without the block event the agent sends, the task is not assumed frozen.
  const other = new Sim();
  other.take('1:1:t1', 'futex:1:0:1:0');
  other.take('thread:1:0', 'futex:1:0:1:4');
  other.wait('thread:1:1', 'futex:1:0:1:4');
  assert.deepEqual(other.wait('thread:1:0', 'futex:1:0:1:0'), []);
});

test('a cycle across threads on locks whose events may come late is held back until every thread has been heard from up to the cycle, or the confirm time passes', () => {
  const sample = (ts: number) => ({ type: 'sample' as const, ts, state: 'idle' as const, elu: 0, wakeups: 0, external: [], internal: [] });
  const setup = (sim: Sim): Finding[] => {
    sim.create('1:0:shared-a', 'web-lock', 'a');
    sim.create('1:0:shared-b', 'web-lock', 'b');
    sim.event(1, 1, { type: 'lock-acquired', ts: 1, resourceId: '1:0:shared-a', taskId: '1:1:t1' });
    sim.event(1, 2, { type: 'lock-acquired', ts: 2, resourceId: '1:0:shared-b', taskId: '1:2:t2' });
    sim.event(1, 1, { type: 'lock-wait', ts: 3, resourceId: '1:0:shared-b', taskId: '1:1:t1' });
    return sim.event(1, 2, { type: 'lock-wait', ts: 10, resourceId: '1:0:shared-a', taskId: '1:2:t2' });
  };
  // Worker 1 has only been heard from up to ts 3: its wait may already have been granted.
  const confirmed = new Sim();
  assert.deepEqual(setup(confirmed), []);
  assert.deepEqual(confirmed.graph.observeAgentEvent(1, 1, sample(9), confirmed.now), [], 'still before the cycle');
  assert.equal(confirmed.graph.observeAgentEvent(1, 1, sample(12), confirmed.now)[0]?.kind, 'deadlock');
  // The late events show worker 1 gave up waiting before the cycle: nothing to report, ever.
  const phantom = new Sim();
  setup(phantom);
  phantom.event(1, 1, { type: 'lock-wait-ended', ts: 5, resourceId: '1:0:shared-b', taskId: '1:1:t1', reason: 'timeout' });
  phantom.graph.observeAgentEvent(1, 1, sample(12), phantom.now);
  assert.deepEqual(phantom.graph.confirmPending(phantom.now + 10_000), []);
  assert.deepEqual(phantom.findings, []);
  // A thread whose last event is a block flushed everything before blocking: it counts as heard from.
  const blocked = new Sim();
  blocked.create('1:0:shared-a', 'web-lock', 'a');
  blocked.create('1:0:shared-b', 'web-lock', 'b');
  blocked.event(1, 1, { type: 'lock-acquired', ts: 1, resourceId: '1:0:shared-a', taskId: '1:1:t1' });
  blocked.event(1, 2, { type: 'lock-acquired', ts: 2, resourceId: '1:0:shared-b', taskId: '1:2:t2' });
  blocked.event(1, 1, { type: 'lock-wait', ts: 3, resourceId: '1:0:shared-b', taskId: '1:1:t1' });
  blocked.graph.observeAgentEvent(1, 1, { type: 'block', ts: 4, on: { kind: 'sync-child', method: 'execSync', command: 'sleep 1' }, stack: [] }, blocked.now);
  assert.equal(blocked.event(1, 2, { type: 'lock-wait', ts: 10, resourceId: '1:0:shared-a', taskId: '1:2:t2' })[0]?.kind, 'deadlock');
  // Worker 1 stays silent: the host's ticker confirms after deadlockConfirmMs.
  const silent = new Sim({ deadlockConfirmMs: 250 });
  setup(silent);
  assert.deepEqual(silent.graph.confirmPending(silent.now + 100), []);
  assert.equal(silent.graph.confirmPending(silent.now + 250)[0]?.kind, 'deadlock');
  assert.deepEqual(silent.graph.confirmPending(silent.now + 500), []);
});

test('a cycle across threads on Web Locks and published shared locks is reported at once: their agents write every event the moment it happens', () => {
  for (const [a, b] of [['weblock:1:a', 'weblock:1:b'], ['published:lock a', 'published:lock b']]) {
    const sim = new Sim();
    sim.create(a, 'web-lock', 'a');
    sim.create(b, 'web-lock', 'b');
    sim.event(1, 1, { type: 'lock-acquired', ts: 1, resourceId: a, taskId: '1:1:t1' });
    sim.event(1, 2, { type: 'lock-acquired', ts: 2, resourceId: b, taskId: '1:2:t2' });
    sim.event(1, 1, { type: 'lock-wait', ts: 3, resourceId: b, taskId: '1:1:t1' });
    assert.equal(sim.event(1, 2, { type: 'lock-wait', ts: 10, resourceId: a, taskId: '1:2:t2' })[0]?.kind, 'deadlock', a);
  }
});

test('events that arrive before the resource-created event make a placeholder that assumes the least', () => {
  const sim = new Sim();
  sim.take('1:0:t1', '1:0:k', { key: 'a', site: at(1) });
  sim.take('1:0:t2', '1:0:s');
  sim.take('1:0:t3', '1:0:s');
  assert.equal(sim.graph.resource('1:0:k')?.kind, 'keyed-lock');
  assert.equal(sim.graph.resource('1:0:s')?.kind, 'semaphore');
  sim.create('1:0:k', 'keyed-lock', 'locks');
  assert.equal(sim.graph.resource('1:0:k')?.name, 'locks');
  assert.deepEqual(sim.release('1:0:t1', '1:0:k', { key: 'a' }), []);
  assert.deepEqual(sim.release('1:0:t2', '1:0:s'), []);
  assert.deepEqual(sim.findings, []);
});

test('Web Locks queue order is agent time, not arrival: a writer that asked first is ahead even if heard of later', () => {
  const sim = new Sim();
  sim.create('weblock:1:config', 'web-lock', 'config');
  sim.create('1:0:m', 'mutex', 'cache');
  sim.event(1, 0, { type: 'lock-acquired', ts: 1, resourceId: 'weblock:1:config', taskId: '1:0:t1', mode: 'shared' });
  sim.event(1, 0, { type: 'lock-acquired', ts: 2, resourceId: '1:0:m', taskId: '1:0:t2' });
  sim.event(1, 0, { type: 'lock-wait', ts: 3, resourceId: '1:0:m', taskId: '1:0:t1' });
  // t2's shared request (ts 5) reaches the host before worker 1's exclusive request (ts 4).
  assert.deepEqual(sim.event(1, 0, { type: 'lock-wait', ts: 5, resourceId: 'weblock:1:config', taskId: '1:0:t2', mode: 'shared' }), []);
  assert.deepEqual(sim.event(1, 1, { type: 'lock-wait', ts: 4, resourceId: 'weblock:1:config', taskId: '1:1:t3', mode: 'exclusive' }), [], 'worker 1 heard of only up to ts 4');
  const found = sim.graph.observeAgentEvent(1, 1, { type: 'sample', ts: 6, state: 'idle', elu: 0, wakeups: 0, external: [], internal: [] }, sim.now);
  assert.equal(found[0]?.kind, 'deadlock');
  assert.deepEqual(new Set(found[0].participants.map((p) => p.task)), new Set(['1:0:t1', '1:0:t2', '1:1:t3']));
});

test('a shared queue a worker announces from a use before its creator does takes the creator\'s name, site and thread', () => {
  for (const order of ['use first', 'creation first'] as const) {
    const sim = new Sim();
    const use = (): void => sim.create('published:jobs', 'queue', 'queue #1', { site: at(30, undefined, 'worker.js'), seenByUse: true }, 1, 1);
    const creation = (): void => sim.create('published:jobs', 'queue', 'q', { site: at(7), capacity: 4 }, 1, 0);
    if (order === 'use first') {
      use();
      creation();
    } else {
      creation();
      use();
    }
    const r = sim.graph.resource('published:jobs');
    assert.equal(r?.name, 'q', order);
    assert.equal(r?.site?.line, 7, order);
    assert.equal(r?.capacity, 4, order);
    assert.equal(r?.seenByUse, undefined, order);
    assert.deepEqual(sim.graph.threadResources(1, 0).map((v) => [v.name, v.owned]), [['q', true]], order);
    assert.deepEqual(sim.graph.threadResources(1, 1).filter((v) => v.owned), [], order);
    // The worker's exit does not take the creator's queue with it.
    sim.graph.onThreadExit(1, 1, sim.now);
    assert.equal(sim.graph.resource('published:jobs')?.name, 'q', order);
  }
});
