import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { AgentEvent, HelloEvent, SampleEvent } from '../../src/protocol/agentEvents';
import { ProcessTree } from '../../src/model/processTree';
import { checkStall } from '../../src/model/stallDetector';

const options = { quietMs: 400, staleMs: 1200 };

function hello(pid: number, threadId: number, extra: Partial<HelloEvent> = {}): HelloEvent {
  return { type: 'hello', ts: 0, pid, ppid: 1, threadId, isMainThread: threadId === 0, name: threadId === 0 ? 'main' : `w${threadId}`, script: 'app.js', argv: ['node', 'app.js'], execPath: 'node', nodeVersion: 'v20.20.2', via: 'preload', ...extra };
}

function idle(internal: SampleEvent['internal'] = [], external: string[] = [], wakeups = 0): SampleEvent {
  return { type: 'sample', ts: 0, state: 'idle', elu: 0, wakeups, external, internal };
}

function feed(tree: ProcessTree, pid: number, threadId: number, events: AgentEvent[], now: number): void {
  for (const e of events) tree.applyEvent(pid, threadId, e, now);
}

const atomicsBlock = (timeoutMs: number | null): AgentEvent => ({
  type: 'block',
  ts: 0,
  on: { kind: 'atomics.wait', buffer: { id: '10:0:1', byteLength: 8 }, index: 0, byteOffset: 0, value: 0, timeoutMs },
  site: { file: '/app/main.js', line: 9, column: 11 },
  stack: [{ file: '/app/main.js', line: 9, column: 11 }],
});

test('all threads idle on in-tree wake sources for the quiet time is a stall, and not before', () => {
  const tree = new ProcessTree();
  tree.addRoot(10, ['node', 'app.js'], 0);
  feed(tree, 10, 0, [hello(10, 0), { type: 'worker-created', ts: 0, threadId: 1, name: 'w1', script: 'w.js', tracked: true }], 0);
  feed(tree, 10, 1, [hello(10, 1), idle([{ kind: 'port', description: 'parent port' }])], 100);
  feed(tree, 10, 0, [idle([{ kind: 'worker', threadId: 1 }])], 100);
  assert.equal(checkStall(tree, 300, options).stalled, false, 'too soon');
  feed(tree, 10, 0, [idle([{ kind: 'worker', threadId: 1 }])], 500);
  feed(tree, 10, 1, [idle([{ kind: 'port', description: 'parent port' }])], 500);
  const check = checkStall(tree, 600, options);
  assert.equal(check.stalled, true);
  if (check.stalled) {
    assert.equal(check.participants.length, 2);
    assert.ok(check.participants.every((p) => p.role === 'idle'));
    assert.match(check.message, /all threads are asleep/);
  }
});

test('a timer, socket or wake-up means the thread can progress', () => {
  for (const sample of [idle([], ['timer']), idle([{ kind: 'port', description: 'p' }], [], 3)]) {
    const tree = new ProcessTree();
    tree.addRoot(10, ['node'], 0);
    feed(tree, 10, 0, [hello(10, 0), sample], 0);
    feed(tree, 10, 0, [sample], 900);
    const check = checkStall(tree, 1000, options);
    assert.equal(check.stalled, false, JSON.stringify(sample));
  }
});

test('a stale sample (thread spinning, no samples) is not proof of idleness', () => {
  const tree = new ProcessTree();
  tree.addRoot(10, ['node'], 0);
  feed(tree, 10, 0, [hello(10, 0), idle()], 0);
  const check = checkStall(tree, 5000, options);
  assert.equal(check.stalled, false);
  if (!check.stalled) assert.match(check.because.reason, /no recent sample/);
});

test('Atomics.wait without timeout is asleep; with a timeout it is not', () => {
  for (const [timeout, expected] of [[null, true], [5000, false]] as const) {
    const tree = new ProcessTree();
    tree.addRoot(10, ['node'], 0);
    feed(tree, 10, 0, [hello(10, 0), atomicsBlock(timeout)], 0);
    assert.equal(checkStall(tree, 1000, options).stalled, expected);
  }
});

test('a dead worker that could notify a blocked thread is named with its error', () => {
  const tree = new ProcessTree();
  tree.addRoot(10, ['node'], 0);
  feed(tree, 10, 0, [hello(10, 0), { type: 'worker-created', ts: 0, threadId: 1, name: 'signaller', script: 'main.js', tracked: true }, atomicsBlock(null)], 0);
  feed(tree, 10, 1, [hello(10, 1, { name: 'signaller' }), { type: 'exit', ts: 0, exitCode: 1, error: { name: 'Error', message: 'boom', stack: [{ file: '/app/main.js', line: 14, column: 9 }] } }], 10);
  const check = checkStall(tree, 1000, options);
  assert.equal(check.stalled, true);
  if (!check.stalled) return;
  assert.deepEqual(check.participants.map((p) => p.role), ['blocked', 'exited']);
  assert.equal(check.participants[1].site?.line, 14);
  assert.equal(check.message, "Stall: all threads are asleep — main thread waits in Atomics.wait at /app/main.js:9:11; worker 1 'signaller' exited with Error: boom, so it can no longer notify");
});

test('an untracked (non-Node) child that is alive can progress; a shell waiting on tracked node does not count', () => {
  const tree = new ProcessTree();
  tree.addRoot(10, ['node'], 0);
  feed(tree, 10, 0, [hello(10, 0), { type: 'child-spawned', ts: 0, pid: 11, method: 'exec', file: '/bin/sh', args: ['-c', 'sleep 9'], shell: true, ipc: false }], 0);
  feed(tree, 10, 0, [idle([{ kind: 'child', pid: 11, ipc: false, stdio: true }])], 900);
  assert.equal(checkStall(tree, 1000, options).stalled, false, 'sleep may end by itself');
  // The shell's child turns out to be a tracked node process that is itself asleep.
  feed(tree, 12, 0, [hello(12, 0, { ppid: 11 })], 950);
  feed(tree, 12, 0, [idle([{ kind: 'parent-ipc', ppid: 11 }])], 960);
  feed(tree, 12, 0, [idle([{ kind: 'parent-ipc', ppid: 11 }])], 1500);
  feed(tree, 10, 0, [idle([{ kind: 'child', pid: 11, ipc: false, stdio: true }])], 1500);
  const check = checkStall(tree, 1600, options);
  assert.equal(check.stalled, true, JSON.stringify(check));
});

test('a thread announced by its parent but not yet heard from can progress (it is starting)', () => {
  const tree = new ProcessTree();
  tree.addRoot(10, ['node'], 0);
  feed(tree, 10, 0, [hello(10, 0), { type: 'worker-created', ts: 0, threadId: 1, name: 'w', script: 'w.js', tracked: true }, idle([{ kind: 'worker', threadId: 1 }])], 0);
  feed(tree, 10, 0, [idle([{ kind: 'worker', threadId: 1 }])], 900);
  const check = checkStall(tree, 1000, options);
  assert.equal(check.stalled, false);
});

test('the tree nests workers under their creating thread and processes under their parent', () => {
  const tree = new ProcessTree();
  tree.addRoot(10, ['node', 'app.js'], 0);
  feed(tree, 10, 0, [hello(10, 0), { type: 'worker-created', ts: 0, threadId: 1, name: 'outer', script: 'a.js', tracked: true }], 0);
  feed(tree, 10, 1, [hello(10, 1), { type: 'worker-created', ts: 0, threadId: 2, name: 'inner', script: 'a.js', tracked: true, site: { file: '/a.js', line: 3, column: 1 } }], 0);
  feed(tree, 10, 0, [{ type: 'child-spawned', ts: 0, pid: 20, method: 'fork', file: 'node', args: ['c.js'], shell: false, ipc: true, site: { file: '/a.js', line: 7, column: 2 } }], 0);
  const p = tree.get(10)!;
  assert.equal(p.threads.get(2)?.parentThreadId, 1);
  assert.equal(p.threads.get(2)?.createdSite?.line, 3);
  assert.equal(tree.get(20)?.ppid, 10);
  assert.equal(tree.get(20)?.origin?.method, 'fork');
  tree.exitProcess(10, null, 'SIGKILL', 5);
  assert.ok([...p.threads.values()].every((t) => t.status === 'exited'));
});

test('a gap in a thread\'s line numbers is counted as lost lines', () => {
  const tree = new ProcessTree();
  tree.applyLine({ k: 't', p: 1, t: 0, s: 0, e: [hello(1, 0)] }, 0);
  tree.applyLine({ k: 't', p: 1, t: 0, s: 3, e: [] }, 0);
  assert.equal(tree.lostLines, 2);
});
