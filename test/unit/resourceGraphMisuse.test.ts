import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { PoolTaskEvent } from '../../src/protocol/resourceEvents';
import type { HelloEvent, SampleEvent } from '../../src/protocol/agentEvents';
import { ProcessTree } from '../../src/model/processTree';
import { Sim, at } from './resourceGraphSim';

test('a lock held past the threshold is reported once, with where it was taken', () => {
  const sim = new Sim();
  sim.create('1:0:m', 'mutex', 'db', { library: 'async-mutex@0.5.0' });
  sim.take('1:0:t1', '1:0:m', { site: at(7, 'migrate') });
  const since = sim.now - 1;
  assert.deepEqual(sim.graph.checkLongHolds(since + 4_999, 5_000), []);
  const [f] = sim.graph.checkLongHolds(since + 5_000, 5_000);
  assert.equal(f.kind, 'lock-held-too-long');
  assert.equal(f.severity, 'warning');
  assert.equal(f.since, since);
  assert.equal(f.message, "Lock held too long: 'db' (async-mutex@0.5.0 mutex) held by task t1 of main thread of pid 1 for 5.0 s, since it was taken at bank.js:7:5");
  assert.deepEqual(f.participants.map((p) => [p.role, p.task, p.site?.line]), [['holds', '1:0:t1', 7]]);
  assert.deepEqual(sim.graph.checkLongHolds(since + 60_000, 5_000), [], 'once per hold');
});

test('release by a non-holder: named holder differs, or the releaser does not hold it; the lock is freed all the same', () => {
  const sim = new Sim();
  sim.create('1:0:m', 'mutex', 'm');
  sim.take('1:0:t1', '1:0:m', { site: at(3) });
  const [f] = sim.release('1:0:t2', '1:0:m', { holderTaskId: '1:0:t1', site: at(9, 'cleanup') });
  assert.equal(f.kind, 'release-by-non-holder');
  assert.deepEqual(f.participants.map((p) => [p.role, p.task, p.site?.line]), [['running', '1:0:t2', 9], ['holds', '1:0:t1', 3]]);
  assert.match(f.message, /task t2 of main thread of pid 1 released 'm' \(lib-mutex@1\.0\.0 mutex\) at bank\.js:9:5, which task t1 of main thread of pid 1 held \(taken at bank\.js:3:5\)/);
  assert.equal(sim.graph.resource('1:0:m')?.holders.size, 0);
  // Without holderTaskId: t3 releases what t4 holds.
  sim.take('1:0:t4', '1:0:m', { site: at(4) });
  const [g] = sim.release('1:0:t3', '1:0:m', { site: at(10) });
  assert.equal(g.kind, 'release-by-non-holder');
  assert.equal(sim.graph.resource('1:0:m')?.holders.size, 0);
  // A double release of a free mutex.
  assert.equal(sim.release('1:0:t3', '1:0:m', { site: at(11) })[0]?.message.endsWith('which nobody held'), true);
});

test('semaphores used as signals and futexes notified by another thread are not misuse', () => {
  const sim = new Sim();
  sim.create('1:0:s', 'semaphore', 'ready', { capacity: 1 });
  sim.take('1:0:t1', '1:0:s');
  assert.deepEqual(sim.release('1:0:t2', '1:0:s'), []);
  sim.create('futex:1:0:1:0', 'futex', 'flag');
  sim.take('thread:1:1', 'futex:1:0:1:0');
  assert.deepEqual(sim.release('thread:1:2', 'futex:1:0:1:0'), []);
  assert.equal(sim.graph.resource('futex:1:0:1:0')?.holders.size, 0);
});

test('a thread that exits holding a lock: held locks, its pending requests and the waiters it orphans', () => {
  const sim = new Sim();
  sim.create('weblock:1:jobs', 'web-lock', 'jobs');
  sim.create('futex:1:0:1:0', 'futex', 'workerData.lock', { library: 'atomics' });
  sim.create('1:1:q', 'mutex', 'local', {}, 1, 1);
  sim.take('1:1:t1', 'weblock:1:jobs', { site: at(5, 'work') });
  sim.take('thread:1:1', 'futex:1:0:1:0', { site: at(6) });
  sim.take('1:1:t2', '1:1:q', { site: at(7) });
  sim.wait('1:1:t3', '1:1:q', { site: at(8) });
  sim.wait('1:0:t9', 'weblock:1:jobs', { site: at(20, 'main') });
  sim.wait('thread:1:2', 'futex:1:0:1:0', { site: at(21) });
  const [f] = sim.graph.onThreadExit(1, 1, sim.now);
  assert.equal(f.kind, 'exit-while-holding');
  assert.equal(f.severity, 'warning');
  assert.deepEqual(
    f.participants.map((p) => [p.role, p.task, p.resource, p.site?.line]),
    [
      ['holds', '1:1:t1', 'weblock:1:jobs', 5],
      ['holds', 'thread:1:1', 'futex:1:0:1:0', 6],
      ['holds', '1:1:t2', '1:1:q', 7],
      ['waits', '1:1:t3', '1:1:q', 8],
      ['waits', '1:0:t9', 'weblock:1:jobs', 20],
      ['waits', 'thread:1:2', 'futex:1:0:1:0', 21],
    ],
  );
  assert.match(f.message, /^Exit while holding: worker 1 of pid 1 exited while holding 'jobs' \(taken at bank\.js:5:5\), 'workerData\.lock' \(taken at bank\.js:6:5\), 'local' \(taken at bank\.js:7:5\) and with requests pending for 'local'; 2 tasks of other threads wait for what it held$/);
  // Its tasks and thread-local locks are gone; shared ones stay, free.
  assert.equal(sim.graph.resource('1:1:q'), undefined);
  assert.equal(sim.graph.resource('weblock:1:jobs')?.holders.size, 0);
  assert.equal(sim.graph.task('1:1:t1'), undefined);
  assert.deepEqual(sim.graph.onThreadExit(1, 1, sim.now), [], 'idempotent');
});

test('exits: nothing when all was released; no warning for tasks of a reported deadlock; process exit forgets everything', () => {
  const sim = new Sim();
  sim.create('1:0:m', 'mutex', 'm');
  sim.take('1:0:t1', '1:0:m');
  sim.release('1:0:t1', '1:0:m');
  assert.deepEqual(sim.graph.onThreadExit(1, 0, sim.now), []);
  const dead = new Sim();
  dead.create('2:0:a', 'mutex', 'a', {}, 2);
  dead.create('2:0:b', 'mutex', 'b', {}, 2);
  dead.take('2:0:t1', '2:0:a');
  dead.take('2:0:t2', '2:0:b');
  dead.wait('2:0:t1', '2:0:b');
  assert.equal(dead.wait('2:0:t2', '2:0:a').length, 1);
  assert.deepEqual(dead.graph.onProcessExit(2, dead.now), []);
  assert.deepEqual(dead.graph.stats(), { resources: 0, tasks: 0, holds: 0, waits: 0, orderPairs: 0 });
  const held = new Sim();
  held.create('3:0:a', 'mutex', 'a', {}, 3);
  held.create('published:db', 'mutex', 'db', {}, 3);
  held.create('3:0:f', 'futex', 'word', {}, 3);
  held.take('3:0:t1', '3:0:a', { site: at(1) });
  held.take('3:0:t1', 'published:db', { site: at(2) });
  // A daemon worker killed with its process in the middle of taking a futex: no bug.
  held.take('3:0:t1', '3:0:f', { site: at(3) });
  held.wait('3:1:t2', '3:0:f', { site: at(4) });
  const [f, ...more] = held.graph.onProcessExit(3, held.now);
  assert.deepEqual(more, []);
  assert.match(f.message, /^Exit while holding: main thread of pid 3 \(its process exited\) exited while holding 'db'/);
  assert.doesNotMatch(f.message, /'a'|'word'/, 'locks only its own threads used end with the process');
});

test("exits: the main thread's exit ends its process's own locks with it; a worker's exit leaves them held", () => {
  const sim = new Sim();
  sim.create('4:0:f', 'futex', 'word', {}, 4);
  sim.take('4:1:t1', '4:0:f', { site: at(1) });
  sim.wait('4:2:t2', '4:0:f', { site: at(2) });
  const [f] = sim.graph.onThreadExit(4, 1, sim.now);
  assert.match(f.message, /^Exit while holding: worker 1 of pid 4 exited while holding 'word'/);
  const main = new Sim();
  main.create('5:0:m', 'mutex', 'm', {}, 5);
  main.take('5:0:t1', '5:0:m', { site: at(1) });
  main.wait('5:1:t2', '5:0:m', { site: at(2) });
  assert.deepEqual(main.graph.onThreadExit(5, 0, main.now), []);
});

function poolTask(taskId: string, state: PoolTaskEvent['state'], extra: Partial<PoolTaskEvent> = {}): PoolTaskEvent {
  return { type: 'pool-task', ts: 0, resourceId: '1:0:q', taskId, state, ...extra };
}

function starvingQueue(sim: Sim): void {
  sim.create('1:0:q', 'queue', 'queue', { library: 'p-queue@8.0.0', capacity: 2 });
  for (const id of ['1:0:i1', '1:0:i2']) sim.event(1, 0, poolTask(id, 'queued', { site: at(5, 'crawl') }));
  sim.event(1, 0, poolTask('1:0:i1', 'running'));
  sim.event(1, 0, poolTask('1:0:i2', 'running'));
  sim.event(1, 0, poolTask('1:0:i3', 'queued', { submittedBy: '1:0:i1', site: at(9, 'fetchPage') }));
}

test('pool starvation: every slot taken by an item waiting for work it queued behind itself', () => {
  const sim = new Sim();
  starvingQueue(sim);
  assert.deepEqual(sim.findings, [], 'i2 has queued nothing: it will finish');
  const [f] = sim.event(1, 0, poolTask('1:0:i4', 'queued', { submittedBy: '1:0:i2', site: at(9, 'fetchPage') }));
  assert.equal(f?.kind, 'pool-starvation');
  assert.equal(
    f.message,
    "Pool starvation: all 2 slots of queue 'queue' (p-queue@8.0.0) are taken by items that wait for work they queued behind themselves: item i1 (at bank.js:5:5) waits for queued item i3 (bank.js:9:5); item i2 (at bank.js:5:5) waits for queued item i4 (bank.js:9:5)",
  );
  assert.deepEqual(f.participants.map((p) => [p.task, p.site?.line]), [['1:0:i1', 5], ['1:0:i3', 9], ['1:0:i2', 5], ['1:0:i4', 9]]);
  assert.deepEqual(sim.graph.checkPools(sim.now + 10_000), [], 'once');
});

test('pool starvation: not while a slot is free, the queue is paused, or an unknown item runs', () => {
  const sim = new Sim();
  sim.create('1:0:q', 'queue', 'queue', { capacity: 3 });
  sim.event(1, 0, poolTask('1:0:i1', 'running'));
  sim.event(1, 0, poolTask('1:0:i2', 'running'));
  sim.event(1, 0, poolTask('1:0:i3', 'queued', { submittedBy: '1:0:i1' }));
  sim.event(1, 0, poolTask('1:0:i4', 'queued', { submittedBy: '1:0:i2' }));
  assert.deepEqual(sim.findings, [], 'a third slot is free');
  const stats = { type: 'queue-stats' as const, ts: 0, resourceId: '1:0:q', size: 2, running: 3, concurrency: 2, paused: false, completed: 0, oldestWaitMs: 0 };
  assert.deepEqual(sim.event(1, 0, stats), [], 'three run, one of which we do not know');
  assert.deepEqual(sim.event(1, 0, { ...stats, running: 2, paused: true }), [], 'paused');
  assert.equal(sim.event(1, 0, { ...stats, running: 2 })[0]?.kind, 'pool-starvation');
});

test('pool starvation waits out the grace period, or is reported when the pool thread exits', () => {
  const sim = new Sim({ poolStarvationMs: 1_000 });
  starvingQueue(sim);
  sim.event(1, 0, poolTask('1:0:i4', 'queued', { submittedBy: '1:0:i2' }));
  const start = sim.now - 1;
  assert.deepEqual(sim.graph.checkPools(start + 999), []);
  assert.equal(sim.graph.checkPools(start + 1_000)[0]?.since, start);
  const early = new Sim({ poolStarvationMs: 60_000 });
  starvingQueue(early);
  early.event(1, 0, poolTask('1:0:i4', 'queued', { submittedBy: '1:0:i2' }));
  assert.equal(early.graph.onThreadExit(1, 0, early.now)[0]?.kind, 'pool-starvation');
  // The running set changing starts a new episode: an item finishing ends it.
  const moving = new Sim({ poolStarvationMs: 1_000 });
  starvingQueue(moving);
  moving.event(1, 0, poolTask('1:0:i4', 'queued', { submittedBy: '1:0:i2' }));
  moving.event(1, 0, poolTask('1:0:i2', 'done'));
  assert.deepEqual(moving.graph.checkPools(moving.now + 5_000), []);
});

test('pool starvation of a worker-thread pool waits while one of its workers still computes', () => {
  const tree = new ProcessTree();
  const hello = (threadId: number): HelloEvent => ({ type: 'hello', ts: 0, pid: 1, ppid: 0, threadId, isMainThread: threadId === 0, name: '', script: 'pool.js', argv: [], execPath: 'node', nodeVersion: 'v24.0.0', via: 'preload' });
  for (const threadId of [0, 7, 8]) tree.applyEvent(1, threadId, hello(threadId), 0);
  const sim = new Sim({ poolStarvationMs: 1_000, tree });
  starvingQueue(sim);
  sim.event(1, 0, poolTask('1:0:i4', 'queued', { submittedBy: '1:0:i2' }));
  sim.event(1, 0, { type: 'queue-stats', ts: 0, resourceId: '1:0:q', size: 2, running: 2, concurrency: 2, paused: false, completed: 0, oldestWaitMs: 0, workers: [7, 8] });
  const sample = (state: 'running' | 'idle'): SampleEvent => ({ type: 'sample', ts: 1, state, elu: state === 'running' ? 1 : 0, wakeups: 0, heapUsed: 0, external: [], internal: [] });
  tree.applyEvent(1, 7, sample('idle'), 1);
  tree.applyEvent(1, 8, sample('running'), 1);
  assert.deepEqual(sim.graph.checkPools(sim.now + 5_000), [], 'worker 8 computes: its item may finish without its follow-up');
  tree.applyEvent(1, 8, sample('idle'), 2);
  // The grace period starts again when the last worker stops computing: the ends of its items come
  // from the pool's thread and may still be on their way.
  assert.deepEqual(sim.graph.checkPools(sim.now + 5_999), [], 'worker 8 stopped computing less than the grace period ago');
  const found = sim.graph.checkPools(sim.now + 6_000)[0];
  assert.equal(found?.kind, 'pool-starvation', 'both workers asleep');
  assert.equal(found?.since, sim.now + 5_000, 'since the last worker was last seen computing');
});
