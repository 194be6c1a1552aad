import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { BlockEvent, SharedBufferRef, WorkerCreatedEvent } from '../../src/protocol/agentEvents';
import { SharedBufferNames } from '../../src/model/sharedBufferNames';
import { ProcessTree } from '../../src/model/processTree';
import { buildReport } from '../../src/model/reportBuilder';
import { isResourceEvent, ResourceGraph } from '../../src/model/resourceGraph';
import { Sim, at } from './resourceGraphSim';

function created(threadId: number, sharedBuffers: SharedBufferRef[]): WorkerCreatedEvent {
  return { type: 'worker-created', ts: 0, threadId, name: `w${threadId}`, script: 'w.js', tracked: true, sharedBuffers };
}

function block(buffer: SharedBufferRef, byteOffset = 0): BlockEvent {
  return { type: 'block', ts: 0, on: { kind: 'atomics.wait', buffer, index: byteOffset / 4, byteOffset, value: 0, timeoutMs: null }, stack: [] };
}

test('canonical buffer ids follow worker-created records up nested workers', () => {
  const names = new SharedBufferNames();
  // main (thread 0) hands its buffer 7:0:1 to worker 1 as workerData.forks
  names.recordWorker(7, 0, created(1, [{ id: '7:0:1', byteLength: 64, label: 'workerData.forks' }]));
  // worker 1 named it itself, and hands it to worker 2 as workerData.lock
  names.recordWorker(7, 1, created(2, [{ id: '7:1:1', byteLength: 64, label: 'workerData.lock' }]));
  assert.equal(names.canonical(7, 1, { id: '7:1:1', byteLength: 64, label: 'workerData.forks' }), '7:0:1');
  assert.equal(names.canonical(7, 2, { id: '7:2:1', byteLength: 64, label: 'workerData.lock' }), '7:0:1');
  // The agent passed the creator's id down: already canonical.
  assert.equal(names.canonical(7, 2, { id: '7:0:1', byteLength: 64, label: 'workerData.x' }), '7:0:1');
  // Through postMessage: no record, the thread's own id stays.
  assert.equal(names.canonical(7, 2, { id: '7:2:2', byteLength: 64, label: 'message.buffer' }), '7:2:2');
  // A label given by a thread for an id it did not name is not trusted as its own.
  assert.equal(names.canonical(7, 2, { id: '7:1:9', byteLength: 64, label: 'workerData.lock' }), '7:1:9');
  // Another process with the same thread ids is another tree branch.
  assert.equal(names.canonical(8, 1, { id: '8:1:1', byteLength: 64, label: 'workerData.forks' }), '8:1:1');
});

test('futex resources seen from two workers are one resource, so their deadlock is found', () => {
  const sim = new Sim();
  const g = sim.graph;
  g.observeAgentEvent(7, 0, created(1, [{ id: '7:0:1', byteLength: 64, label: 'workerData.forks' }]), sim.now);
  g.observeAgentEvent(7, 0, created(2, [{ id: '7:0:1', byteLength: 64, label: 'workerData.forks' }]), sim.now);
  assert.equal(g.canonicalBufferId(7, 1, { id: '7:1:1', byteLength: 64, label: 'workerData.forks' }), '7:0:1');
  assert.equal(g.canonicalBufferId(7, 2, { id: '7:2:1', byteLength: 64, label: 'workerData.forks' }), '7:0:1');
  // Philosophers: fork 0 at byte 0, fork 1 at byte 4; each worker uses its own buffer id.
  sim.create('futex:7:1:1:0', 'futex', 'workerData.forks[0]', { library: 'atomics' }, 7, 1);
  sim.create('futex:7:2:1:4', 'futex', 'workerData.forks[1]', { library: 'atomics' }, 7, 2);
  assert.deepEqual(g.allResources().map((r) => r.id).sort(), ['futex:7:0:1:0', 'futex:7:0:1:4']);
  sim.take('thread:7:1', 'futex:7:1:1:0', { site: at(3, 'philosopher') });
  sim.take('thread:7:2', 'futex:7:2:1:4', { site: at(3, 'philosopher') });
  sim.wait('thread:7:1', 'futex:7:1:1:4', { site: at(4, 'philosopher') });
  const [f] = sim.wait('thread:7:2', 'futex:7:2:1:0', { site: at(4, 'philosopher') });
  assert.equal(f?.kind, 'deadlock');
  assert.equal(f.message, "Deadlock: worker 2 of pid 7 (philosopher at bank.js:4:5) holds 'workerData.forks[1]' and waits for 'workerData.forks[0]'; worker 1 of pid 7 (philosopher at bank.js:4:5) holds 'workerData.forks[0]' and waits for 'workerData.forks[1]'");
});

test('a worker-created record that arrives late merges the futexes and closes the cycle then', () => {
  const sim = new Sim();
  const g = sim.graph;
  // Nested: main → worker 1 → worker 2. Worker 2's events come first, under its own buffer id.
  g.observeAgentEvent(7, 2, block({ id: '7:2:1', byteLength: 64, label: 'workerData.lock' }), sim.now);
  g.observeAgentEvent(7, 1, block({ id: '7:1:1', byteLength: 64, label: 'workerData.forks' }), sim.now);
  sim.take('thread:7:1', 'futex:7:1:1:0', { site: at(1) });
  sim.take('thread:7:2', 'futex:7:2:1:4', { site: at(2) });
  assert.deepEqual(sim.wait('thread:7:1', 'futex:7:1:1:4', { site: at(3) }), []);
  assert.deepEqual(sim.wait('thread:7:2', 'futex:7:2:1:0', { site: at(4) }), [], 'still two names for each futex');
  assert.equal(g.allResources().length, 4);
  assert.deepEqual(g.observeAgentEvent(7, 0, created(1, [{ id: '7:0:1', byteLength: 64, label: 'workerData.forks' }]), sim.now), []);
  const found = g.observeAgentEvent(7, 1, created(2, [{ id: '7:1:1', byteLength: 64, label: 'workerData.lock' }]), sim.now);
  assert.equal(found[0]?.kind, 'deadlock');
  assert.deepEqual(g.allResources().map((r) => r.id).sort(), ['futex:7:0:1:0', 'futex:7:0:1:4']);
  assert.equal(g.resource('futex:7:0:1:0')?.holders.get('thread:7:1')?.site?.line, 1);
});

test('the report lists resources with holders and waiters; the live view lists them under their threads', () => {
  const sim = new Sim();
  sim.create('1:0:m', 'mutex', 'db', { site: at(1) });
  sim.create('1:0:q', 'pool', 'pool', { capacity: 2, library: 'piscina@4.0.0' });
  sim.take('1:0:t1', '1:0:m', { site: at(2) });
  sim.wait('1:0:t2', '1:0:m', { site: at(3), timeoutMs: 50 });
  sim.wait('1:3:t7', '1:0:m', { site: at(4) });
  sim.event(1, 0, { type: 'pool-task', ts: 0, resourceId: '1:0:q', taskId: '1:0:j1', state: 'running', workerThreadId: 3, site: at(8) });
  sim.event(1, 0, { type: 'pool-task', ts: 0, resourceId: '1:0:q', taskId: '1:0:j2', state: 'queued', submittedBy: '1:0:t1' });
  sim.event(1, 0, { type: 'queue-stats', ts: 0, resourceId: '1:0:q', size: 1, running: 1, concurrency: 2, paused: false, completed: 5, oldestWaitMs: 12 });
  const report = sim.graph.resourcesForReport();
  assert.deepEqual(report.map((r) => [r.id, r.kind, r.library, r.name, r.site?.line]), [['1:0:m', 'mutex', 'lib-mutex@1.0.0', 'db', 1], ['1:0:q', 'pool', 'piscina@4.0.0', 'pool', undefined]]);
  const [m, q] = report;
  assert.deepEqual(m.holders.map((p) => [p.role, p.task, p.resource, p.site?.line, p.detail]), [['holds', '1:0:t1', '1:0:m', 2, 'holds it (exclusive), taken at bank.js:2:5']]);
  assert.deepEqual(m.waiters.map((p) => [p.task, p.threadId, p.detail]), [['1:0:t2', 0, 'waits (exclusive, gives up after 50 ms) at bank.js:3:5'], ['1:3:t7', 3, 'waits (exclusive) at bank.js:4:5']]);
  assert.deepEqual(q.holders.map((p) => [p.role, p.task, p.threadId]), [['running', '1:0:j1', 3]]);
  assert.deepEqual(q.waiters.map((p) => [p.task, p.detail]), [['1:0:j2', 'queued, submitted by 1:0:t1']]);
  assert.deepEqual([q.capacity, q.completed, q.workerThreadIds], [2, 5, [3]], 'a pool: its size, items completed, the workers that ran items');
  assert.deepEqual([m.capacity, m.completed, m.workerThreadIds], [undefined, undefined, undefined], 'a mutex created without a capacity: none of them');
  const main = sim.graph.threadResources(1, 0);
  assert.deepEqual(main.map((v) => [v.id, v.owned, v.holders, v.waiters, v.heldHere, v.waitingHere]), [['1:0:m', true, 1, 2, 1, 1], ['1:0:q', true, 0, 0, 0, 0]]);
  assert.equal(main[1].queue?.completed, 5);
  assert.deepEqual(sim.graph.threadTasks(1, 3).map((t) => [t.id, t.wait?.resourceId, t.holds.size]), [['1:3:t7', '1:0:m', 0]]);
  assert.equal(sim.graph.threadTasks(1, 0).find((t) => t.id === '1:0:t1')?.holds.get('1:0:m')?.site?.line, 2);
  const worker = sim.graph.threadResources(1, 3);
  assert.deepEqual(worker.map((v) => [v.id, v.owned, v.waitingHere, v.runningHere]), [['1:0:m', false, 1, undefined], ['1:0:q', false, 0, 1]]);
  assert.deepEqual(new ResourceGraph().threadResources(1, 0), []);
  assert.equal(isResourceEvent({ type: 'lock-wait' }), true);
  assert.equal(isResourceEvent({ type: 'sample' }), false);
});

test('the report carries the resources the host passes in', () => {
  const sim = new Sim();
  sim.create('1:0:m', 'mutex', 'db');
  sim.take('1:0:t1', '1:0:m', { site: at(2) });
  const resources = sim.graph.resourcesForReport();
  const report = buildReport(new ProcessTree(), { command: ['node'], exitCode: 0, signal: null, gridlockExitCode: 0, startedAt: 0, endedAt: 1, findings: [], notes: [], resources });
  assert.deepEqual(report.resources, resources);
  assert.deepEqual(buildReport(new ProcessTree(), { command: ['node'], exitCode: 0, signal: null, gridlockExitCode: 0, startedAt: 0, endedAt: 1, findings: [], notes: [] }).resources, []);
});
