// The host side of a run: agent lines in, findings out — a lock cycle becomes a deadlock finding
// that stops the run, resources show under their thread, and the report carries them.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { HubLine } from '../../src/protocol/hubWire';
import type { ResourceEvent } from '../../src/protocol/resourceEvents';
import type { AgentEvent } from '../../src/protocol/agentEvents';
import { TrackingSession } from '../../src/cli/trackingSession';
import type { LiveView } from '../../src/cli/liveView';
import { renderTree } from '../../src/cli/treeText';

function quietView(messages: string[]): LiveView {
  return { update() {}, message: (lines) => messages.push(...lines), close() {} };
}

const site = (line: number) => ({ file: '/app/bank.js', line, column: 5 });
let seq = 0;
const line = (events: Array<AgentEvent | ResourceEvent>): HubLine => ({ k: 't', p: 7, t: 0, s: seq++, e: events });

test('a cycle of two async tasks on two mutexes is a deadlock finding that stops the run', () => {
  const messages: string[] = [];
  let stopped = 0;
  const session = new TrackingSession(() => quietView(messages), '/app', 400, () => stopped++);
  session.handleLine(line([{ type: 'hello', ts: 1, pid: 7, ppid: 1, threadId: 0, isMainThread: true, name: 'main', script: '/app/bank.js', argv: ['node', 'bank.js'], execPath: 'node', nodeVersion: 'v20.20.2', via: 'preload' }]));
  const created = (id: string, name: string, l: number): ResourceEvent => ({ type: 'resource-created', ts: 2, resourceId: id, kind: 'mutex', library: 'async-mutex@0.5.0', name, site: site(l), capacity: 1 });
  session.handleLine(line([created('7:0:r1', 'alice', 3), created('7:0:r2', 'bob', 4)]));
  session.handleLine(line([
    { type: 'lock-acquired', ts: 3, resourceId: '7:0:r1', taskId: '7:0:t1', site: site(10) },
    { type: 'lock-acquired', ts: 4, resourceId: '7:0:r2', taskId: '7:0:t2', site: site(20) },
    { type: 'lock-wait', ts: 5, resourceId: '7:0:r2', taskId: '7:0:t1', site: site(11) },
  ]));
  assert.equal(session.hangFound, false);
  assert.equal(stopped, 0);
  const lines = renderTree(session.tree, '/app', session.resourceLines);
  assert.ok(lines.some((l) => l.includes("mutex 'bob' (async-mutex@0.5.0): held here, 1 waiting (1 here)")), lines.join('\n'));
  session.handleLine(line([{ type: 'lock-wait', ts: 6, resourceId: '7:0:r1', taskId: '7:0:t2', site: site(21) }]));
  assert.equal(session.hangFound, true);
  assert.equal(stopped, 1, 'the run is stopped once');
  const deadlock = session.findings.find((f) => f.kind === 'deadlock')!;
  assert.deepEqual(deadlock.participants.filter((p) => p.role === 'waits').map((p) => p.site?.line).sort(), [11, 21]);
  assert.deepEqual(deadlock.participants.filter((p) => p.role === 'holds').map((p) => p.site?.line).sort(), [10, 20]);
  assert.ok(messages.some((m) => m.includes('Deadlock')), messages.join('\n'));
  assert.deepEqual(session.resources.resourcesForReport().map((r) => r.name).sort(), ['alice', 'bob']);
});

test('a process gridlock stops is shown as stopped by gridlock, with its main thread\'s own exit when that came first', () => {
  const messages: string[] = [];
  const session = new TrackingSession(() => quietView(messages), '/app', 400, () => {});
  const hello = (pid: number): HubLine => ({ k: 't', p: pid, t: 0, s: seq++, e: [{ type: 'hello', ts: 1, pid, ppid: 1, threadId: 0, isMainThread: true, name: 'main', script: '/app/bank.js', argv: ['node', 'bank.js'], execPath: 'node', nodeVersion: 'v20.20.2', via: 'preload' }] });
  session.handleLine(hello(8));
  session.handleLine(hello(9));
  session.handleLine(hello(10));
  // pid 8: its loop drained and its main thread exited 0 just as gridlock stopped it.
  session.handleLine({ k: 't', p: 8, t: 0, s: seq++, e: [{ type: 'exit', ts: 2, exitCode: 0 }] });
  session.tree.markStoppedByGridlock(8);
  session.processExited(8, null, 'SIGKILL');
  // pid 9: hung, stopped by gridlock.
  session.tree.markStoppedByGridlock(9);
  session.processExited(9, null, 'SIGKILL');
  // pid 10: gridlock's signal came too late, it had ended by itself.
  session.tree.markStoppedByGridlock(10);
  session.processExited(10, 0, null);
  const text = renderTree(session.tree, '/app', session.resourceLines).join('\n');
  assert.match(text, /pid 8 .*— stopped by gridlock \(SIGKILL\), as its main thread exited 0/);
  assert.match(text, /pid 9 .*— stopped by gridlock \(SIGKILL\)$/m);
  assert.match(text, /pid 10 .*— exited 0$/m);
});
