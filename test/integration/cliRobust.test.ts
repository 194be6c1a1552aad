// Robustness of `gridlock run`: threads and processes killed mid-run, hundreds of short-lived
// workers and children without a leak in gridlock itself, and hangs whose thread dump cannot be
// taken (inspector closed by the program, or a program that no longer answers).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EXIT_HANG_FOUND, EXIT_UNREACHABLE } from '../../src/protocol/report';
import { cliFixture, gridlock, killIfAlive, openFdCount, reportFile } from '../helpers/cliHarness';
import { gridlockBin, lineOf, runGridlock, runToEnd } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

test('a worker terminated while blocked in Atomics.wait and a child killed with SIGKILL: the tree says so, the run ends normally', async () => {
  const run = await runGridlock([testNode, cliFixture('killMidRun.js')]);
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^worker terminated, exit code 1\nchild \d+ is up\nchild exited null SIGKILL\n$/);
  const report = run.report!;
  assert.deepEqual(report.findings, []);
  const [root, child] = report.processes;
  assert.deepEqual([root.exitCode, root.signal], [0, null]);
  const doomed = root.threads.find((t) => t.name === 'doomed');
  assert.ok(doomed, JSON.stringify(root.threads));
  assert.deepEqual([doomed.state, doomed.exitCode, doomed.blockedOn], ['exited', 1, undefined], 'terminated: exited with 1, no longer blocked');
  assert.ok(child, 'the killed child is in the report');
  assert.deepEqual([child.ppid, child.startedBy?.method, child.exitCode, child.signal], [root.pid, 'spawn', null, 'SIGKILL']);
  assert.equal(child.startedBy?.site?.line, lineOf(cliFixture('killMidRun.js'), 'cp.spawn('));
  assert.ok(child.threads.every((t) => t.state === 'exited'), 'the killed child has no live thread left');
});

test('200 short-lived workers and 200 short-lived child processes: all in the report, no finding, no leak in gridlock', { timeout: 180_000 }, async (t) => {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--json', report.path, '--', testNode, cliFixture('manyShortLived.js'), '200']);
  try {
    await run.waitFor('stderr', /gridlock: started pid \d+/);
    const before = openFdCount(run.pid);
    // Sample gridlock's descriptors while the program works (every 50 ms, from outside).
    let most = before;
    const sampler = setInterval(() => {
      try {
        most = Math.max(most, openFdCount(run.pid));
      } catch {
        // ended
      }
    }, 50);
    try {
      await run.waitFor('stdout', /^all done$/m, 150_000);
    } finally {
      clearInterval(sampler);
    }
    const after = openFdCount(run.pid);
    run.write('quit\n');
    const ended = await run.finish(30_000);
    assert.equal(ended.code, 5, ended.stderr.slice(-3000));
    assert.equal(ended.stdout, 'workers ok: 200\nchildren ok: 200\nall done\n');
    t.diagnostic(`gridlock's open descriptors: ${before} at the start, ${most} at most, ${after} at the end`);
    // 400 workers and processes came and went: gridlock's descriptors did not grow with them.
    assert.ok(after <= before + 4, `descriptors at the start ${before}, at the end ${after}`);
    assert.ok(most <= before + 16, `descriptors at the start ${before}, at most ${most} during the run`);
    const r = report.read();
    assert.deepEqual(r.findings, []);
    const [root, ...children] = r.processes;
    const workers = root.threads.filter((t) => t.threadId !== 0);
    assert.equal(workers.length, 200);
    assert.ok(workers.every((t) => t.state === 'exited' && t.exitCode === 0 && /^w\d+$/.test(t.name)), 'every worker exited with 0');
    assert.deepEqual(new Set(workers.map((t) => t.name)).size, 200);
    assert.equal(children.length, 200);
    assert.ok(children.every((c) => c.ppid === root.pid && c.exitCode === 0 && c.startedBy?.method === 'spawn' && c.tracked), 'every child tracked, exited with 0');
    assert.deepEqual([root.exitCode, r.gridlockExitCode], [5, 5]);
    assert.ok(!r.notes.some((n) => /lost|dropped/.test(n)), `no events lost: ${JSON.stringify(r.notes)}`);
  } finally {
    run.stop();
    report.cleanup();
  }
});

test('a program that closes its inspector and then hangs: the stall is still reported, with the agent\'s stack', async () => {
  const started = Date.now();
  const run = await runGridlock([testNode, cliFixture('closesInspector.js')], { timeoutMs: 20_000 });
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  assert.ok(Date.now() - started < 10_000, 'no waiting on an inspector that is gone');
  assert.equal(run.stdout, 'inspector closed: true\n');
  const stall = run.report!.findings.find((f) => f.kind === 'stall');
  assert.ok(stall, run.stderr);
  const [main] = stall.participants;
  const blockedLine = lineOf(cliFixture('closesInspector.js'), 'Atomics.wait(cell, 0, 0)');
  assert.deepEqual([main.threadId, main.role, main.site?.line], [0, 'blocked', blockedLine]);
  assert.equal(main.stack?.[0]?.line, blockedLine, 'the stack the agent recorded when the thread blocked');
  assert.equal(run.report!.signal, 'SIGKILL', 'the program was stopped');
  assert.doesNotMatch(run.stderr, /Debugger attached/, 'no inspector client ever connected');
});

test('a program that stops answering (SIGSTOP) while hung: the dump times out, the stall is reported with the agent\'s stacks, no hang', async () => {
  const report = reportFile();
  // A long stall window, so the program is surely stopped before the stall is decided.
  const run = gridlock(['run', '--plain', '--stall-ms', '1500', '--json', report.path, '--', testNode, cliFixture('blocksAtOnce.js')]);
  let pid: number | undefined;
  try {
    pid = Number((await run.waitFor('stdout', /blocking (\d+)/))[1]);
    await run.waitFor('stderr', /main thread of pid \d+: blocked in Atomics\.wait/);
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    await run.waitFor('stderr', /✖ Stall: all threads are asleep/, 20_000);
    const waited = Date.now() - stoppedAt;
    // The dump connects (the kernel accepts), gets no handshake, and gives up after its 3 s bound.
    assert.ok(waited >= 3000, `the finding waited for the dump to time out (${waited} ms)`);
    const ended = await run.finish(15_000);
    assert.equal(ended.code, EXIT_HANG_FOUND, ended.stderr);
    const r = report.read();
    assert.equal(r.signal, 'SIGKILL', 'a stopped program is still stopped by gridlock');
    const [main] = r.findings.find((f) => f.kind === 'stall')!.participants;
    const blockedLine = lineOf(cliFixture('blocksAtOnce.js'), 'Atomics.wait(cell, 0, 0)');
    assert.deepEqual([main.role, main.site?.line, main.stack?.[0]?.line], ['blocked', blockedLine, blockedLine]);
  } finally {
    killIfAlive(pid);
    run.stop();
    report.cleanup();
  }
});

test('dump of a program that does not answer (SIGSTOP) gives up within its bound with a clear line', async () => {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--json', report.path, '--', testNode, cliFixture('handleSigterm.js')]);
  let pid: number | undefined;
  try {
    await run.waitFor('stdout', /^ready$/m);
    pid = Number((await run.waitFor('stderr', /started pid (\d+)/))[1]);
    process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    const dump = await runToEnd(process.execPath, [gridlockBin, 'dump', String(pid)], { timeoutMs: 20_000 });
    assert.equal(dump.timedOut, false);
    assert.equal(dump.code, EXIT_UNREACHABLE, dump.stderr);
    assert.match(dump.stderr, /^gridlock: .*no answer from 127\.0\.0\.1:\d+ within \d+ ms \(is the program stopped/);
    assert.equal(dump.stderr.trim().split('\n').length, 1, dump.stderr);
    assert.ok(Date.now() - started < 12_000, 'bounded');
    process.kill(pid, 'SIGCONT');
    run.child.kill('SIGTERM');
    const ended = await run.finish(15_000);
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout, 'ready\ngot SIGTERM\n');
  } finally {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    killIfAlive(pid);
    run.stop();
    report.cleanup();
  }
});
