import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { drainFinding, findingId } from '../../src/model/findings';
import { ProcessTree } from '../../src/model/processTree';
import { buildReport } from '../../src/model/reportBuilder';
import { parseArgs, UsageError } from '../../src/cli/args';
import { nodeOptionsWithAgent } from '../../src/cli/launchEnv';

test('finding ids depend on kind and sites, not on pids or order', () => {
  const a = findingId('stall', [
    { pid: 1, threadId: 0, role: 'blocked', detail: 'x', site: { file: '/a.js', line: 3, column: 1 } },
    { pid: 1, threadId: 2, role: 'exited', detail: 'pid 1', site: { file: '/a.js', line: 9, column: 1 } },
  ]);
  const b = findingId('stall', [
    { pid: 77, threadId: 2, role: 'exited', detail: 'pid 77', site: { file: '/a.js', line: 9, column: 4 } },
    { pid: 77, threadId: 0, role: 'blocked', detail: 'y', site: { file: '/a.js', line: 3, column: 8 } },
  ]);
  assert.equal(a, b);
  assert.notEqual(a, findingId('deadlock', []));
  assert.match(a, /^stall-[0-9a-f]{8}$/);
});

test('a drained loop with pending waits is a stall finding; a clean drain is none', () => {
  const tree = new ProcessTree();
  tree.applyEvent(5, 0, { type: 'hello', ts: 0, pid: 5, ppid: 1, threadId: 0, isMainThread: true, name: 'main', script: 'a.js', argv: [], execPath: 'node', nodeVersion: 'v20', via: 'preload' }, 0);
  const p = tree.get(5)!;
  const t = p.threads.get(0)!;
  assert.equal(drainFinding(p, t, { type: 'drain', ts: 0, exitCode: 0, pending: [] }, 0), undefined);
  const f = drainFinding(p, t, { type: 'drain', ts: 0, exitCode: 0, pending: [{ kind: 'events.once', description: "'connected' from EventEmitter", site: { file: '/a.js', line: 4, column: 9 }, since: 0 }] }, 0);
  assert.equal(f?.kind, 'stall');
  assert.match(f?.message ?? '', /drained while it still awaited 'connected' from EventEmitter at \/a.js:4:9/);
  assert.equal(f?.participants[0].site?.line, 4);
  const tla = drainFinding(p, t, { type: 'drain', ts: 0, exitCode: 13, pending: [] }, 0);
  assert.match(tla?.message ?? '', /status 13/);
});

test('the report carries processes with parents, threads with parents, names and exit codes', () => {
  const tree = new ProcessTree();
  tree.addRoot(5, ['node', 'a.js'], 0);
  tree.applyEvent(5, 0, { type: 'worker-created', ts: 0, threadId: 1, name: 'w', script: 'a.js', tracked: true }, 0);
  tree.applyEvent(5, 1, { type: 'exit', ts: 0, exitCode: 3 }, 0);
  tree.applyEvent(5, 0, { type: 'child-spawned', ts: 0, pid: 6, method: 'spawn', file: 'ls', args: [], shell: false, ipc: false }, 0);
  tree.applyEvent(5, 0, { type: 'child-exited', ts: 0, pid: 6, exitCode: 0, signal: null }, 0);
  const report = buildReport(tree, { command: ['node', 'a.js'], exitCode: 0, signal: null, gridlockExitCode: 0, startedAt: 0, endedAt: 1, findings: [], notes: [] });
  assert.equal(report.version, 1);
  assert.deepEqual(report.processes.map((p) => [p.pid, p.ppid, p.exitCode]), [[5, null, null], [6, 5, 0]]);
  const worker = report.processes[0].threads.find((t) => t.threadId === 1);
  assert.deepEqual([worker?.parentThreadId, worker?.name, worker?.exitCode, worker?.state], [0, 'w', 3, 'exited']);
});

test('command line: clear usage errors, options before the command, -- separates', () => {
  assert.throws(() => parseArgs(['run']), (e: Error) => e instanceof UsageError && /needs a command/.test(e.message));
  assert.throws(() => parseArgs(['run', '--bogus', 'node']), /unknown option '--bogus'.*after '--'/);
  assert.throws(() => parseArgs(['frobnicate']), /unknown command 'frobnicate'/);
  assert.throws(() => parseArgs(['run', '--stall-ms', 'x', 'node']), /whole number/);
  assert.throws(() => parseArgs(['run', '--long-hold-ms', '50', 'node']), /--long-hold-ms needs a whole number of milliseconds from 100/);
  const parsed = parseArgs(['run', '--json', 'r.json', '--keep-running', '--', 'node', '--inspect', 'a.js']);
  assert.deepEqual(parsed, { kind: 'run', options: { command: ['node', '--inspect', 'a.js'], jsonFile: 'r.json', keepRunning: true, live: 'auto', verbose: false, stallMs: 400, longHoldMs: 10_000 } });
  assert.deepEqual(parseArgs(['attach', '--long-hold-ms', '2500', '9229']), { kind: 'attach', target: '9229', jsonFile: undefined, live: 'auto', verbose: false, stallMs: 400, longHoldMs: 2500 });
});

test('NODE_OPTIONS keeps what was there and quotes the agent path', () => {
  assert.equal(nodeOptionsWithAgent('--max-old-space-size=100', '/a b/agent.js'), '--max-old-space-size=100 --require "/a b/agent.js" --inspect-publish-uid=http');
  assert.equal(nodeOptionsWithAgent(undefined, '/x/"q".js'), '--require "/x/\\"q\\".js" --inspect-publish-uid=http');
});
