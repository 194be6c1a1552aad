// `gridlock dump` and `gridlock attach` against real programs: thread dumps with the fixture's
// lines (with the agent, under `gridlock run`, and without it, under --inspect), and attach that
// shows the live tree, reports a stall, detaches on SIGINT and leaves the program unharmed.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { discountInspectorWakeups } from '../../src/inspector/attach';
import type { ThreadDump } from '../../src/inspector/threadDump';
import type { SampleEvent } from '../../src/protocol/agentEvents';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import { cliFixture, gridlock, isAlive, killIfAlive, reportFile, startInspected, type Watched } from '../helpers/cliHarness';
import { gridlockBin, lineOf, runToEnd } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

const mainFile = cliFixture('blockedWorker.js');
const workerFile = cliFixture('blockedWorkerThread.js');
const mainWaitLine = lineOf(mainFile, 'Atomics.wait(cells, 1, 0, 200)');
const mainCallLine = lineOf(mainFile, '  pollForever();');
const workerWaitLine = lineOf(workerFile, 'Atomics.wait(cells, 0, 0)');
const workerCallLine = lineOf(workerFile, 'waitForSignal();', 1);

const dump = (args: string[]) => runToEnd(process.execPath, [gridlockBin, 'dump', ...args], { timeoutMs: 20_000 });

/** Checks a text dump shows both threads blocked, with their frames at the fixture's lines. */
function assertTextDump(text: string): void {
  const sections = text.split(/\n(?=")/);
  const main = sections.find((s) => s.startsWith('"main" thread 0'));
  const worker = sections.find((s) => s.startsWith('"stuck" thread 1'));
  assert.ok(main && worker, `both threads are listed:\n${text}`);
  assert.match(main, /^"main" thread 0 — blocked in Atomics\.wait\n/);
  assert.match(main, new RegExp(`^ {4}at pollForever \\(${mainFile}:${mainWaitLine}:\\d+\\)$`, 'm'));
  assert.match(main, new RegExp(`^ {4}at .*\\(${mainFile}:${mainCallLine}:\\d+\\)$`, 'm'));
  assert.match(worker, /^"stuck" thread 1 — blocked in Atomics\.wait\n/);
  assert.match(worker, new RegExp(`^ {4}at waitForSignal \\(${workerFile}:${workerWaitLine}:\\d+\\)$`, 'm'));
  assert.match(worker, new RegExp(`^ {4}at .*\\(${workerFile}:${workerCallLine}:\\d+\\)$`, 'm'));
}

function assertJsonDump(text: string, pid: number, via: 'agent' | 'stack-trace'): void {
  const parsed = JSON.parse(text) as ThreadDump;
  assert.equal(parsed.pid, pid);
  assert.match(parsed.url, /^ws:\/\/127\.0\.0\.1:\d+\//);
  assert.deepEqual(parsed.threads.map((t) => [t.threadId, t.name, t.state, t.blockedIn, t.via]), [
    [0, 'main', 'blocked', 'Atomics.wait', via],
    [1, 'stuck', 'blocked', 'Atomics.wait', via],
  ]);
  const [main, worker] = parsed.threads;
  assert.deepEqual([main.stack[0].file, main.stack[0].line, main.stack[0].functionName], [mainFile, mainWaitLine, 'pollForever']);
  assert.deepEqual([worker.stack[0].file, worker.stack[0].line, worker.stack[0].functionName], [workerFile, workerWaitLine, 'waitForSignal']);
  assert.ok(parsed.threads.every((t) => t.stack.every((f) => !f.file.startsWith('async ') && !f.file.startsWith('gridlock-internal:'))), 'frames are clean');
}

test('dump <pid> of a program under gridlock run: every thread with its stack at the fixture lines, as text and --json', async () => {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--keep-running', '--json', report.path, '--', testNode, mainFile]);
  let pid: number | undefined;
  try {
    pid = Number((await run.waitFor('stdout', /^ready (\d+)$/m))[1]);
    const text = await dump([String(pid)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^Thread dump of ${pid} \\(ws://127\\.0\\.0\\.1:\\d+/[0-9a-f-]+\\) at \\d{4}-`));
    assertTextDump(text.stdout);
    const json = await dump(['--json', String(pid)]);
    assert.equal(json.code, 0, json.stderr);
    assertJsonDump(json.stdout, pid, 'agent');
    // The dumps did not disturb the run: no finding, the program is still there.
    assert.equal(isAlive(pid), true);
    process.kill(pid, 'SIGKILL');
    const ended = await run.finish(15_000);
    assert.equal(ended.signal, 'SIGKILL', 'gridlock ends as its program did');
    assert.deepEqual(report.read().findings, []);
  } finally {
    killIfAlive(pid);
    run.stop();
    report.cleanup();
  }
});

test('dump of a program started with --inspect=127.0.0.1:0 (no agent): by pid, by port and by URL', async () => {
  const { program, port, url } = await startInspected(mainFile);
  try {
    const [, pidText] = await program.waitFor('stdout', /^ready (\d+)$/m);
    const pid = Number(pidText);
    assert.equal(pid, program.pid);
    for (const target of [String(pid), String(port), `127.0.0.1:${port}`, url]) {
      const text = await dump([target]);
      assert.equal(text.code, 0, `${target}: ${text.stderr}`);
      assertTextDump(text.stdout);
    }
    const json = await dump(['--json', String(port)]);
    assert.equal(json.code, 0, json.stderr);
    assertJsonDump(json.stdout, pid, 'stack-trace');
    // A dump leaves nothing behind: the program can still be dumped (no stale worker session).
    const again = await dump([String(pid)]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(isAlive(pid), true);
  } finally {
    program.stop();
  }
});

/** Starts attachTarget.js under --inspect and `gridlock attach --plain --json` to it, once it shows both workers. */
async function attachToTarget(): Promise<{ program: Watched; attach: Watched; report: ReturnType<typeof reportFile> }> {
  const { program, port } = await startInspected(cliFixture('attachTarget.js'));
  await program.waitFor('stdout', /^ready \d+$/m);
  const report = reportFile();
  const attach = gridlock(['attach', '--plain', '--json', report.path, String(port)]);
  await attach.waitFor('stderr', /attached to ws:\/\/127\.0\.0\.1:\d+\//);
  return { program, attach, report };
}

test('attach: the live output shows the threads; a stall is reported; SIGINT detaches with 86 and the program keeps running', async () => {
  const { program, attach, report } = await attachToTarget();
  try {
    // The live (plain) output shows the program and both workers, by name.
    assert.match(attach.stderr, new RegExp(`gridlock: started pid ${program.pid} `));
    assert.match(attach.stderr, new RegExp(`gridlock: worker \\d+ 'waiter' of pid ${program.pid} started`));
    assert.match(attach.stderr, new RegExp(`gridlock: worker \\d+ 'helper' of pid ${program.pid} started`));
    program.write('hang\n');
    await attach.waitFor('stderr', /✖ Stall: all threads are asleep/, 20_000);
    const waiterLine = lineOf(cliFixture('attachTargetWorker.js'), 'Atomics.wait(cell, 0, 0)');
    assert.match(attach.stderr, new RegExp(`worker \\d+ 'waiter' waits in Atomics\\.wait at test/fixtures/cli/attachTargetWorker\\.js:${waiterLine}:\\d+`));
    assert.equal(attach.running, true, 'attach reports, it does not stop anything or exit by itself');
    attach.child.kill('SIGINT');
    const ended = await attach.finish(15_000);
    assert.equal(ended.code, EXIT_HANG_FOUND, ended.stderr);
    assert.match(ended.stderr, /note: detached; the program keeps running/);
    assert.match(ended.stderr, new RegExp(`^gridlock: detached; the program is still running \\(pid ${program.pid}\\); gridlock exits with 86 \\(hang found\\)$`, 'm'));
    const r = report.read();
    const stall = r.findings.find((f) => f.kind === 'stall');
    assert.ok(stall);
    const blocked = stall.participants.find((p) => p.role === 'blocked');
    assert.equal(blocked?.site?.line, waiterLine);
    assert.ok(blocked?.stack?.some((f) => f.line === lineOf(cliFixture('attachTargetWorker.js'), "if (order === 'block') blockForGood();")), 'the stack goes through the message handler');
    assert.deepEqual(r.processes.map((p) => p.pid), [program.pid]);
    assert.deepEqual([r.exitCode, r.signal, r.gridlockExitCode], [null, null, EXIT_HANG_FOUND]);
    // Unharmed and still there: it can be dumped after the detach, and is still hung.
    const after = await dump(['--json', String(program.pid)]);
    assert.equal(after.code, 0, after.stderr);
    const threads = (JSON.parse(after.stdout) as ThreadDump).threads;
    assert.deepEqual(threads.filter((t) => t.name === 'waiter').map((t) => t.state), ['blocked']);
    assert.equal(program.running, true);
  } finally {
    program.stop();
    attach.stop();
    report.cleanup();
  }
});

test('attach to a healthy program, then SIGINT: exit 0, and the program keeps running and later ends by itself', async () => {
  const { program, attach, report } = await attachToTarget();
  try {
    // Something the attached gridlock reports (after it is fully attached), then Ctrl-C.
    program.write('ping\n');
    await attach.waitFor('stderr', /worker 3 'ping' of pid \d+ started/);
    attach.child.kill('SIGINT');
    const ended = await attach.finish(15_000);
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /no findings/);
    assert.doesNotMatch(ended.stderr, /Stall/);
    const r = report.read();
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.processes[0].threads.map((t) => [t.threadId, t.name]), [[0, 'main'], [1, 'waiter'], [2, 'helper'], [3, 'ping']]);
    assert.equal(program.running, true, 'detaching leaves the program running');
    program.write('quit\n');
    const out = await program.finish(15_000);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `ready ${program.pid}\npinged\nquit\n`);
    assert.doesNotMatch(out.stderr, /Waiting for the debugger to disconnect/, 'nothing holds the program at its exit');
  } finally {
    program.stop();
    attach.stop();
    report.cleanup();
  }
});

test('attach, then SIGINT: the summary says the program is still running (with its pid), and it is', async () => {
  const { program, attach, report } = await attachToTarget();
  attach.related.push(program);
  try {
    attach.child.kill('SIGINT');
    const ended = await attach.finish(15_000);
    assert.equal(ended.code, 0, ended.stderr);
    // The last lines of the summary: how the program was left, then the report.
    const summary = ended.stderr.slice(ended.stderr.indexOf('── gridlock summary ──'));
    assert.match(summary, new RegExp(`^gridlock: detached; the program is still running \\(pid ${program.pid}\\); gridlock exits with 0\\ngridlock: report written to `, 'm'));
    assert.doesNotMatch(ended.stderr, /exited with null|program exited|program ended/);
    // The report keeps its format: attach knows no exit status.
    const r = report.read();
    assert.deepEqual([r.exitCode, r.signal, r.gridlockExitCode], [null, null, 0]);
    assert.ok(r.notes.includes('detached; the program keeps running'), JSON.stringify(r.notes));
    // It really is still running, and still answers: a new worker starts at its command.
    assert.equal(isAlive(program.pid), true);
    program.write('ping\n');
    await program.waitFor('stdout', /^pinged$/m);
    assert.equal(program.running, true);
    program.stop();
    const out = await program.ended;
    assert.equal(out.signal, 'SIGKILL', 'it ran until the test killed it');
  } finally {
    program.stop();
    attach.stop();
    report.cleanup();
  }
});

test('attach: a stall is reported even while another worker idles (its heartbeats must not count as main-thread activity)', async () => {
  const { program, attach, report } = await attachToTarget();
  try {
    program.write('hang-keep-helper\n');
    await attach.waitFor('stderr', /worker \d+ 'waiter' of pid \d+: blocked in Atomics\.wait/);
    await attach.waitFor('stderr', /✖ Stall: all threads are asleep/, 6000);
    assert.match(attach.stderr, /worker \d+ 'helper' [^\n]*idle/);
  } finally {
    attach.child.kill('SIGINT');
    await attach.finish(15_000).catch(() => undefined);
    program.stop();
    attach.stop();
    report.cleanup();
  }
});

test('attach honours --stall-ms: the stall is declared no sooner than that after the program hangs', async () => {
  const stallMs = 2000;
  const { program, port } = await startInspected(cliFixture('attachTarget.js'));
  const report = reportFile();
  let attach: Watched | undefined;
  try {
    await program.waitFor('stdout', /^ready \d+$/m);
    attach = gridlock(['attach', '--plain', '--stall-ms', String(stallMs), '--json', report.path, String(port)]);
    attach.related.push(program);
    await attach.waitFor('stderr', /attached to ws:/);
    // Before 'hang' main waits on stdin (no stall is possible). Everything the stall rule waits
    // out comes after this write (the waiter's block event, the helper's exit, main reading the
    // line): gridlock cannot declare the stall sooner than --stall-ms after it, however slow the
    // machine. The bound is measured from a moment before the cause, not from when the test saw a
    // line (which a loaded machine delays), and there is no upper bound but the deadline.
    const hangAt = performance.now();
    program.write('hang\n');
    await attach.waitFor('stderr', /✖ Stall: all threads are asleep/, 40_000);
    const after = performance.now() - hangAt;
    // Slack for the two clocks (gridlock's Date.now() is whole milliseconds).
    assert.ok(after >= stallMs - 20, `declared ${Math.round(after)} ms after the program was told to hang, with --stall-ms ${stallMs} (the default is 400)`);
    attach.child.kill('SIGINT');
    const ended = await attach.finish(15_000);
    assert.equal(ended.code, EXIT_HANG_FOUND, ended.stderr);
    assert.ok(report.read().findings.some((f) => f.kind === 'stall'), 'the report has the stall');
  } finally {
    if (attach?.running) {
      attach.child.kill('SIGINT');
      await attach.finish(15_000).catch(() => undefined);
    }
    program.stop();
    attach?.stop();
    report.cleanup();
  }
});

test('the attach wake-up discount: only wake-ups the attachment caused, in a thread doing no work, are taken out', () => {
  const sample = (state: 'running' | 'idle', wakeups: number, elu: number, external: string[] = []): SampleEvent => ({ type: 'sample', ts: 0, state, elu, wakeups, external, internal: [] });
  const cases: Array<[SampleEvent, number, Pick<SampleEvent, 'state' | 'wakeups'>]> = [
    [sample('running', 1, 0.004), 1, { state: 'idle', wakeups: 0 }], // one worker heartbeat crossed main
    [sample('running', 2, 0.004), 1, { state: 'running', wakeups: 2 }], // one more wake-up than we caused
    [sample('running', 1, 0.2), 3, { state: 'running', wakeups: 1 }], // real work
    [sample('running', 1, 0.004, ['timer']), 1, { state: 'running', wakeups: 1 }], // a timer could have woken it
    [sample('running', 1, 0.004), 0, { state: 'running', wakeups: 1 }], // nothing crossed
    [sample('idle', 0, 0.001), 2, { state: 'idle', wakeups: 0 }],
  ];
  for (const [event, crossings, expected] of cases) {
    discountInspectorWakeups([event], crossings);
    assert.deepEqual({ state: event.state, wakeups: event.wakeups }, expected, JSON.stringify([event, crossings]));
  }
});
