// Lock findings through the whole chain (agent in the program, hub, model, CLI): the exact lines
// where each task waits and where it took what it holds, and no finding for heavy correct use.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Finding } from '../../src/protocol/report';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import { lineOf, repoRoot, runGridlock, runToEnd } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

const locks = (name: string) => path.join(repoRoot, 'test', 'fixtures', 'locks', name);

function lines(finding: Finding, role: 'waits' | 'holds'): number[] {
  return finding.participants.filter((p) => p.role === role).map((p) => p.site?.line ?? 0).sort((a, b) => a - b);
}

/** Runs a correct program with and without gridlock: no finding, and its own output and exit status. */
async function runWithoutFinding(file: string): Promise<Awaited<ReturnType<typeof runGridlock>>> {
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file]);
  assert.equal(run.timedOut, false, run.stderr);
  assert.deepEqual(run.report?.findings, [], run.stderr);
  assert.equal(run.code, bare.code);
  assert.equal(run.stdout, bare.stdout);
  return run;
}

for (const [fixture, style] of [['mutex-deadlock.js', 'acquire/release'], ['mutex-deadlock-run.js', 'runExclusive']] as const) {
  test(`two async tasks deadlocked on two mutexes (${style}): one finding, both waits and both holds at their lines`, async () => {
    const file = locks(fixture);
    const run = await runGridlock([testNode, file]);
    assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
    const findings = run.report?.findings ?? [];
    assert.deepEqual(findings.map((f) => f.kind), ['deadlock'], 'the deadlock explains the drained waits: no second finding');
    const deadlock = findings[0];
    const call = style === 'runExclusive' ? 'runExclusive' : 'acquire()';
    assert.deepEqual(lines(deadlock, 'waits'), [lineOf(file, `accountB.${call}`, 1), lineOf(file, `accountA.${call}`, 2)].sort((a, b) => a - b));
    assert.deepEqual(lines(deadlock, 'holds'), [lineOf(file, `accountA.${call}`, 1), lineOf(file, `accountB.${call}`, 2)].sort((a, b) => a - b));
    assert.match(deadlock.message, /holds 'accountB' and waits for 'accountA'/);
    assert.equal(new Set(deadlock.participants.map((p) => p.task)).size, 2, 'two tasks of one thread');
    assert.deepEqual(run.report?.resources.map((r) => r.name).sort(), ['accountA', 'accountB']);
  });
}

test('a task taking a lock it already holds is a self-deadlock at both lines', async () => {
  const file = locks('selfDeadlock.js');
  const run = await runGridlock([testNode, file]);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  const [finding] = run.report?.findings ?? [];
  assert.equal(finding?.kind, 'self-deadlock');
  assert.deepEqual(lines(finding, 'holds'), [lineOf(file, 'const release = await ledger.acquire()')]);
  assert.deepEqual(lines(finding, 'waits'), [lineOf(file, 'await ledger.acquire(); // already held')]);
});

test('locks taken in opposite orders that never overlapped: a lock-order inversion warning, exit status unchanged', async () => {
  const file = locks('orderInversion.js');
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file]);
  assert.equal(run.code, bare.code);
  assert.equal(run.stdout, bare.stdout);
  const findings = run.report?.findings ?? [];
  assert.deepEqual(findings.map((f) => [f.kind, f.severity]), [['lock-order-inversion', 'warning']]);
  const inversion = findings[0];
  assert.deepEqual(lines(inversion, 'holds'), [lineOf(file, 'await cache.runExclusive', 1), lineOf(file, 'await config.runExclusive', 2)].sort((a, b) => a - b));
  assert.deepEqual(lines(inversion, 'waits'), [lineOf(file, 'await config.runExclusive', 1), lineOf(file, 'await cache.runExclusive', 2)].sort((a, b) => a - b));
});

test('thousands of tasks contending on mutexes, semaphores and keyed locks under a p-queue: no finding', async () => {
  const run = await runWithoutFinding(locks('heavy.js'));
  const kinds = new Set(run.report?.resources.map((r) => `${r.kind}:${r.library.split('@')[0]}`));
  for (const k of ['mutex:async-mutex', 'semaphore:async-mutex', 'semaphore:async-sema', 'keyed-lock:async-lock', 'queue:p-queue']) assert.ok(kinds.has(k), `${k} in ${[...kinds].join(' ')}`);
});

test('batches of async loops started at once by a parent that awaited the batch before: one task per loop, no self-deadlock', async () => {
  const run = await runWithoutFinding(locks('loop-batches.js'));
  assert.equal(run.stdout, 'jobs 1048\n');
});

test('jobs started one per tick by a parent, each holding locks (acquire/release, runExclusive, async-lock callback): one task per job, no self-deadlock', async () => {
  const run = await runWithoutFinding(locks('staggered-jobs.js'));
  assert.equal(run.code, 0);
  assert.equal(run.stdout, 'done 12\n');
});

test('a worker waiting on a futex lock word it holds itself is a self-deadlock at both lines; its earlier timed wait is not', async () => {
  const file = locks('futexSelfDeadlock.js');
  const run = await runGridlock([testNode, file]);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  assert.match(run.stdout, /again with a timeout: false/);
  const findings = run.report?.findings ?? [];
  assert.deepEqual(findings.map((f) => f.kind), ['self-deadlock']);
  assert.deepEqual(lines(findings[0], 'holds'), [lineOf(file, '// take')]);
  assert.deepEqual(lines(findings[0], 'waits'), [lineOf(file, '// wait')]);
});

test('a counting semaphore on a SharedArrayBuffer word is not taken for a lock: no lock, no finding', async () => {
  const file = locks('futexSemaphore.js');
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, bare.stdout);
  assert.equal(run.stdout, 'permits at the end: 2\n');
  assert.deepEqual(run.report?.findings, []);
  assert.deepEqual(run.report?.resources.filter((r) => r.kind === 'futex'), []);
});
