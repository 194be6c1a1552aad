// The hangs of the engine issue, each run through the real CLI, agent and inspector: the exact
// finding, its participants and source lines, the program stopped, and gridlock's exit status.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Finding } from '../../src/protocol/report';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import { hangsDir, lineOf, nodeFixture, runGridlock } from '../helpers/runGridlock';

const fixture = (name: string) => path.join(hangsDir, name);

function onlyStall(findings: Finding[] | undefined): Finding {
  assert.ok(findings, 'a report was written');
  const stalls = findings.filter((f) => f.kind === 'stall');
  assert.equal(stalls.length, 1, `exactly one stall finding, got ${JSON.stringify(findings, null, 1)}`);
  return stalls[0];
}

test('main thread waiting in Atomics.wait for a worker that died at start-up is a stall naming both', async () => {
  const run = await runGridlock(nodeFixture('futexDeadWorker.js'));
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  const stall = onlyStall(run.report?.findings);
  const file = fixture('futexDeadWorker.js');
  const blocked = stall.participants.find((p) => p.role === 'blocked');
  assert.ok(blocked, 'the waiting main thread is a participant');
  assert.equal(blocked.threadId, 0);
  assert.equal(blocked.site?.line, lineOf(file, 'Atomics.wait(signal, 0, 0)'));
  assert.ok(blocked.stack && blocked.stack.length > 0, 'the main thread has a stack');
  const dead = stall.participants.find((p) => p.role === 'exited');
  assert.ok(dead, 'the dead worker is a participant');
  assert.match(dead.detail, /config file missing/);
  assert.equal(dead.site?.line, lineOf(file, "throw new Error('config file missing')"));
  assert.match(stall.message, /signaller/);
  assert.match(stall.message, /config file missing/);
  assert.equal(run.stdout, 'main: waiting for the signaller\n');
  // The program was stopped by gridlock after the dump, and both the report and the summary say so.
  assert.equal(run.report?.signal, 'SIGKILL');
  const root = run.report?.processes.find((p) => p.startedBy === null);
  assert.equal(root?.stoppedByGridlock, true);
  assert.match(run.stderr, /program stopped by gridlock \(SIGKILL\); gridlock exits with 86/);
});

test('dining philosophers blocked on each other\'s futex locks: the cycle, every thread with where it waits and what it holds', async () => {
  const run = await runGridlock(nodeFixture('philosophers.js'));
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  // With futex locks tracked, the hang is named as the deadlock it is (before the stall rule fires).
  const findings = run.report?.findings ?? [];
  assert.deepEqual(findings.map((f) => f.kind), ['deadlock'], JSON.stringify(findings, null, 1));
  const deadlock = findings[0];
  const file = fixture('philosophers.js');
  const waits = deadlock.participants.filter((p) => p.role === 'waits');
  const holds = deadlock.participants.filter((p) => p.role === 'holds');
  assert.equal(new Set(waits.map((p) => p.threadId)).size, 5, 'all five philosophers wait');
  assert.equal(new Set(holds.map((p) => p.threadId)).size, 5, 'all five hold a fork');
  for (const p of waits) {
    assert.equal(p.site?.line, lineOf(file, 'Atomics.wait(ia, i, 1)'));
    assert.ok(p.stack?.some((f) => f.line === lineOf(file, 'lock(forks, (seat + 1) % N)')), 'the stack shows the second lock call');
  }
  for (const p of holds) assert.equal(p.site?.line, lineOf(file, 'Atomics.compareExchange(ia, i, 0, 1)'));
  // Each fork is held by one philosopher and waited for by the next.
  assert.deepEqual(new Set(waits.map((p) => p.resource)), new Set(holds.map((p) => p.resource)));
  const threads = run.report?.processes[0]?.threads ?? [];
  assert.equal(threads.filter((t) => t.name.startsWith('philosopher')).length, 5);
});

test('two processes each waiting for the other\'s IPC message: a stall across processes', async () => {
  const run = await runGridlock(nodeFixture('ipcStandoff.js'));
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  const stall = onlyStall(run.report?.findings);
  const pids = new Set(stall.participants.map((p) => p.pid));
  assert.equal(pids.size, 2, 'both processes take part');
  assert.match(stall.message, /all threads of 2 processes are asleep/);
  assert.ok(stall.participants.every((p) => p.role === 'idle'));
  assert.ok(stall.participants.some((p) => /IPC message from its parent/.test(p.detail)));
  assert.ok(stall.participants.some((p) => /IPC message from pid/.test(p.detail)));
  const child = run.report?.processes.find((p) => p.startedBy?.method === 'fork');
  assert.ok(child, 'the forked child is in the report');
  assert.equal(child.startedBy?.site?.line, lineOf(fixture('ipcStandoff.js'), 'fork(__filename'));
});

test('an event loop that drains while awaiting events.once is reported before the silent exit', async () => {
  const run = await runGridlock(nodeFixture('drainOnce.js'));
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  assert.equal(run.report?.exitCode, 0, 'the program itself exited with 0');
  const stall = onlyStall(run.report?.findings);
  assert.match(stall.message, /drained/);
  assert.equal(stall.participants[0]?.site?.line, lineOf(fixture('drainOnce.js'), "await once(database, 'connected')"));
  assert.equal(run.stdout, 'main: connecting\n');
});

test('an unsettled top-level await (exit 13) is explained with what it awaited', async () => {
  const run = await runGridlock(nodeFixture('drainTla.mjs'));
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  assert.equal(run.report?.exitCode, 13);
  const stall = onlyStall(run.report?.findings);
  assert.match(stall.message, /status 13/);
  assert.ok(stall.participants.some((p) => p.site?.line === lineOf(fixture('drainTla.mjs'), "await once(worker, 'message')")), JSON.stringify(stall.participants));
});

test('Atomics.waitAsync that can never be notified is reported at drain', async () => {
  const run = await runGridlock(nodeFixture('drainWaitAsync.js'));
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  const stall = onlyStall(run.report?.findings);
  assert.equal(stall.participants[0]?.site?.line, lineOf(fixture('drainWaitAsync.js'), 'Atomics.waitAsync(signal, 0, 0)'));
});

test('finding ids are stable across runs', async () => {
  const [a, b] = [await runGridlock(nodeFixture('futexDeadWorker.js')), await runGridlock(nodeFixture('futexDeadWorker.js'))];
  assert.equal(onlyStall(a.report?.findings).id, onlyStall(b.report?.findings).id);
});
