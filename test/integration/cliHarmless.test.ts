// Harmlessness of `gridlock run`: the program's stdout, stderr, stdin and exit status are the same
// with and without gridlock; signals reach it; frozen globals and untracked threads and processes
// do not break it; --keep-running leaves a hung program running and otherwise nothing survives.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import { cliFixture, gridlock, isAlive, killIfAlive, reportFile } from '../helpers/cliHarness';
import { gridlockBin, runGridlock, runToEnd, type GridlockRun, type Ran } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

/** Runs a fixture bare and under gridlock (same stdin) and checks stdout, stderr and the ending are identical. */
async function sameWithAndWithout(fixture: string, args: string[] = [], input?: string): Promise<{ bare: Ran; run: GridlockRun }> {
  const command = [testNode, cliFixture(fixture), ...args];
  const bare = await runToEnd(command[0], command.slice(1), { input });
  const run = await runGridlock(command, { input });
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.stdout, bare.stdout, 'same stdout');
  assert.equal(run.programStderr, bare.stderr, 'same stderr');
  assert.equal(run.code, bare.code, `same exit code: ${run.stderr.slice(-2000)}`);
  assert.equal(run.signal, bare.signal, 'same signal');
  return { bare, run };
}

test('1 MB written fast to stdout and exit code 7: byte for byte the same', async () => {
  const { bare, run } = await sameWithAndWithout('bigOutput.js');
  assert.equal(bare.code, 7);
  assert.equal(Buffer.byteLength(run.stdout), 1024 * 1024);
  assert.equal(run.report?.exitCode, 7);
  assert.equal(run.report?.gridlockExitCode, 7);
});

test('stdin piped through gridlock reaches the program', async () => {
  const input = 'first line\nsecond line, with ünïcödé\n'.repeat(500);
  const { run } = await sameWithAndWithout('echoStdin.js', [], input);
  assert.equal(run.code, 0);
  assert.ok(run.stdout.startsWith('FIRST LINE\nSECOND LINE, WITH ÜNÏCÖDÉ\n'));
  assert.match(run.stdout, new RegExp(`read ${Buffer.byteLength(input)} bytes\\n$`));
});

test('a program that kills itself with SIGTERM: gridlock dies of SIGTERM too', async () => {
  const { bare, run } = await sameWithAndWithout('selfSigterm.js');
  assert.equal(bare.signal, 'SIGTERM');
  assert.equal(run.signal, 'SIGTERM');
  assert.equal(run.report?.signal, 'SIGTERM');
  assert.equal(run.report?.exitCode, null);
  assert.equal(run.report?.gridlockExitCode, 128 + 15);
  assert.deepEqual(run.report?.findings, []);
});

test('SIGTERM sent to gridlock reaches the program, which handles it and exits 0', async () => {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--json', report.path, '--', testNode, cliFixture('handleSigterm.js')]);
  try {
    await run.waitFor('stdout', /^ready$/m);
    run.child.kill('SIGTERM');
    const ended = await run.finish(15_000);
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.signal, null);
    assert.equal(ended.stdout, 'ready\ngot SIGTERM\n');
    assert.equal(report.read().exitCode, 0);
  } finally {
    run.stop();
    report.cleanup();
  }
});

test('SIGINT sent to gridlock (not from a terminal) reaches the program, which dies of it; gridlock ends the same way', async () => {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--json', report.path, '--', testNode, '-e', 'console.log("ready"); setInterval(() => {}, 1000)']);
  try {
    await run.waitFor('stdout', /^ready$/m);
    run.child.kill('SIGINT');
    const ended = await run.finish(15_000);
    assert.equal(ended.signal, 'SIGINT', ended.stderr);
    assert.equal(report.read().signal, 'SIGINT');
  } finally {
    run.stop();
    report.cleanup();
  }
});

test('a program that freezes Atomics, process, globalThis and the patched modules still runs the same', async () => {
  const { run } = await sameWithAndWithout('frozen.js');
  assert.equal(run.code, 4);
  assert.equal(run.stdout, 'wait: timed-out\nspawnSync: 2\nchild says: child ran\nchild exit 0\nworker said hi\nworker exit 0\n');
  assert.deepEqual(run.report?.findings, []);
  // Still tracked after the freeze: the worker and both children are in the tree.
  const report = run.report!;
  assert.equal(report.processes.length, 3, JSON.stringify(report.processes.map((p) => p.argv)));
  assert.deepEqual(report.processes[0].threads.map((t) => [t.threadId, t.state, t.exitCode]), [[0, 'exited', 4], [1, 'exited', 0]]);
});

test('MessageChannel is the same to a program that loads a pool library (whose ports gridlock links to pool items)', async () => {
  const { run } = await sameWithAndWithout('messageChannels.mjs');
  assert.equal(run.code, 0);
  assert.equal(
    run.stdout,
    'same constructor: true true\nname and length: MessageChannel 0\ninstanceof: true true\nwithout new: TypeError Cannot call constructor without `new`\nsubclass: true\nreply: pong\n',
  );
  assert.deepEqual(run.report?.findings, []);
});

test('--keep-running: the finding is printed, the hung program keeps running, gridlock waits for it', async () => {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--keep-running', '--json', report.path, '--', testNode, cliFixture('workerBlocksForever.js')]);
  let pid: number | undefined;
  try {
    pid = Number((await run.waitFor('stdout', /pid (\d+): worker is waiting/))[1]);
    await run.waitFor('stderr', /✖ Stall: all threads are asleep/);
    // Had gridlock stopped it, the SIGKILL would have gone out right after the finding: a thread
    // dump taken afterwards proves the program is still there and answering.
    const dump = await runToEnd(process.execPath, [gridlockBin, 'dump', String(pid)], { timeoutMs: 15_000 });
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, /"waiter" thread 1/);
    assert.equal(isAlive(pid), true, 'the program is still running');
    assert.doesNotMatch(run.stderr, /stopping the program/);
    assert.equal(run.running, true, 'gridlock waits for the program');
    process.kill(pid, 'SIGKILL');
    const ended = await run.finish(15_000);
    assert.equal(ended.code, EXIT_HANG_FOUND, ended.stderr);
    const r = report.read();
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.findings.filter((f) => f.kind === 'stall').length, 1);
  } finally {
    killIfAlive(pid);
    run.stop();
    report.cleanup();
  }
});
