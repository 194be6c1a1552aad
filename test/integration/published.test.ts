// Locks, queues and pools a program writes itself and publishes on diagnostics_channel
// (src/protocol/publishedResources.ts), through the whole chain: agent, hub, model, CLI report.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Finding } from '../../src/protocol/report';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import { lineOf, repoRoot, runGridlock, runToEnd } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', 'published', name);

function lines(finding: Finding, role: 'waits' | 'holds'): number[] {
  return finding.participants.filter((p) => p.role === role).map((p) => p.site?.line ?? 0);
}

test('two async tasks on two published mutexes: a deadlock naming both locks by their variables, at the lines that hold and wait', async () => {
  const file = fixture('asyncMutexDeadlock.js');
  const run = await runGridlock([testNode, file]);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  const findings = run.report?.findings ?? [];
  assert.deepEqual(findings.map((f) => f.kind), ['deadlock']);
  assert.deepEqual(lines(findings[0], 'holds'), [lineOf(file, '// holds'), lineOf(file, '// holds')]);
  assert.deepEqual(lines(findings[0], 'waits'), [lineOf(file, '// waits'), lineOf(file, '// waits')]);
  assert.equal(new Set(findings[0].participants.map((p) => p.task)).size, 2);
  assert.deepEqual(run.report?.resources.map((r) => [r.kind, r.library, r.name]).sort(), [
    ['mutex', 'diagnostics_channel', 'accountA'],
    ['mutex', 'diagnostics_channel', 'accountB'],
  ]);
});

test('two child processes deadlocked on locks their parent serves over IPC, published under shared ids: one deadlock across processes', async () => {
  const file = fixture('ledgerProcesses.js');
  const run = await runGridlock([testNode, file]);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  const findings = run.report?.findings ?? [];
  assert.deepEqual(findings.map((f) => f.kind), ['deadlock']);
  const deadlock = findings[0];
  const parent = run.report?.processes.find((p) => p.startedBy === null);
  const children = new Set(run.report?.processes.filter((p) => p.ppid === parent?.pid && p.startedBy?.method === 'fork').map((p) => p.pid));
  assert.equal(children.size, 2);
  assert.deepEqual(new Set(deadlock.participants.map((p) => p.pid)), children, 'each child process is a participant');
  assert.deepEqual(lines(deadlock, 'holds'), [lineOf(file, '// holds'), lineOf(file, '// holds')]);
  assert.deepEqual(lines(deadlock, 'waits'), [lineOf(file, '// waits'), lineOf(file, '// waits')]);
  assert.match(deadlock.message, /holds 'accountA' and waits for 'accountB'/);
  assert.match(deadlock.message, /holds 'accountB' and waits for 'accountA'/);
});

test('a published worker pool and semaphores: the pool with its size, completed items and workers; a timed wait that gives up; no finding', async () => {
  const file = fixture('workerPool.js');
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, bare.stdout);
  assert.equal(run.stdout, 'squares: 0,1,4,9,16,25,36,49; a timed acquire gives up: false\n');
  assert.deepEqual(run.report?.findings, []);
  const byName = new Map(run.report?.resources.map((r) => [r.name, r]));
  const pool = byName.get('squares');
  assert.deepEqual([pool?.kind, pool?.capacity, pool?.completed, pool?.site?.line], ['pool', 2, 8, lineOf(file, 'const squares = new Pool(2)')]);
  const workers = run.report?.processes[0].threads.filter((t) => t.threadId !== 0).map((t) => t.threadId);
  assert.deepEqual(pool?.workerThreadIds, workers, 'the pool ran its items on both of its workers');
  assert.deepEqual([byName.get('submitting')?.kind, byName.get('submitting')?.capacity], ['semaphore', 3]);
  assert.equal(byName.get('gate')?.kind, 'semaphore');
});

test('malformed messages on the gridlock channels are ignored: same output and exit status, nothing thrown into the program', async () => {
  const file = fixture('malformed.js');
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file]);
  assert.equal(bare.stdout, 'published 32 malformed messages\n');
  assert.equal(run.stdout, bare.stdout);
  assert.equal(run.code, bare.code);
  assert.equal(run.programStderr, bare.stderr);
  assert.deepEqual(run.report?.findings, []);
});
