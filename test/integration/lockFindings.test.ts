// Lock findings through the whole chain (agent in the program, hub, model, CLI: `gridlock run
// --plain --json`): pool starvation, deadlocks on a semaphore, on Web Locks and on futexes across
// worker threads, and the warnings (a lock held too long, a release by a non-holder, a thread or a
// process that exits holding a lock), each at its exact lines. Programs run on `testNode` (Node 24
// under scripts/withNode24.mjs).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import type { Finding, FindingParticipant, Report } from '../../src/protocol/report';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import type { GridlockRun, Ran } from '../helpers/runGridlock';
import { lineOf, repoRoot, runGridlock, runToEnd } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

const locks = (name: string): string => path.join(repoRoot, 'test', 'fixtures', 'locks', name);
const hasWebLocks = execFileSync(testNode, ['-p', 'typeof globalThis.navigator?.locks?.request'], { encoding: 'utf8' }).trim() === 'function';

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const lines = (ps: FindingParticipant[]): number[] => sorted(ps.map((p) => p.site?.line ?? 0));
const byRole = (f: Finding, role: FindingParticipant['role']): FindingParticipant[] => f.participants.filter((p) => p.role === role);
const show = (run: GridlockRun): string => `${run.stderr}\n${JSON.stringify(run.report?.findings, null, 1)}`;

/** The only finding of the run, of this kind. */
function only(run: GridlockRun, kind: Finding['kind']): Finding {
  const findings = run.report?.findings ?? [];
  assert.deepEqual(findings.map((f) => f.kind), [kind], show(run));
  return findings[0];
}

/** The name of thread `threadId` of process `pid` in the report. */
function threadName(report: Report | undefined, pid: number, threadId: number): string | undefined {
  return report?.processes.find((p) => p.pid === pid)?.threads.find((t) => t.threadId === threadId)?.name;
}

/** A warning leaves the program alone: gridlock exits with the program's own status, and its output is the same. */
function assertUnchanged(run: GridlockRun, bare: Ran): void {
  assert.equal(bare.timedOut, false, bare.stderr);
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, bare.code, show(run));
  assert.equal(run.stdout, bare.stdout);
  assert.equal(run.programStderr, bare.stderr);
}

test('pool starvation: both slots of a p-queue run items that await work they queued behind themselves', async () => {
  const file = locks('queue-starvation.js');
  const bare = await runToEnd(testNode, [file]);
  // Without gridlock, Node drains and exits with 0 without a word.
  assert.deepEqual([bare.code, bare.stdout], [0, 'queued 2 reports\n']);
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assert.equal(run.code, EXIT_HANG_FOUND, show(run));
  assert.equal(run.stdout, 'queued 2 reports\n');
  const starvation = only(run, 'pool-starvation');
  assert.equal(starvation.severity, 'error');
  assert.match(starvation.message, /all 2 slots of queue 'renderQueue' \(p-queue@/);
  const queue = run.report?.resources.find((r) => r.name === 'renderQueue');
  assert.ok(queue, JSON.stringify(run.report?.resources));
  assert.deepEqual(new Set(starvation.participants.map((p) => p.resource)), new Set([queue.id]));
  const running = starvation.participants.filter((p) => /runs in a slot/.test(p.detail));
  const queued = starvation.participants.filter((p) => /queued by item/.test(p.detail));
  assert.equal(running.length, 2, show(run));
  assert.equal(queued.length, 2, show(run));
  assert.deepEqual(lines(running), [lineOf(file, 'renderQueue.add(() => buildReport(name))'), lineOf(file, 'renderQueue.add(() => buildReport(name))')]);
  assert.deepEqual(lines(queued), [lineOf(file, 'await renderQueue.add(() => renderChart(name))'), lineOf(file, 'await renderQueue.add(() => renderChart(name))')]);
  // Each running item waits for the item it queued itself.
  for (const r of running) {
    const mine = queued.filter((q) => q.detail.includes(`queued by item ${r.task?.slice(r.task.lastIndexOf(':') + 1)},`));
    assert.equal(mine.length, 1, `${r.detail}: ${queued.map((q) => q.detail).join(' | ')}`);
    assert.ok(r.detail.includes(`waits for item ${mine[0].task?.slice(mine[0].task.lastIndexOf(':') + 1)},`), r.detail);
  }
});

for (const [library, fixtureFile, how, reportCall, chartCall] of [
  ['workerpool', 'workerpool-starvation.js', 'its event handler (workerEmit)', "pool.exec('report'", "pool.exec('chart'"],
  ['piscina', 'piscina-starvation.js', 'the handler of a MessagePort sent with it', 'return pool.run({ report', 'pool.run({ chart'],
] as const) {
  test(`pool starvation: both threads of a ${library} pool run reports that block until a chart ${how} queued on the same pool`, async () => {
    const file = locks(fixtureFile);
    // Without gridlock the program never ends (its main thread keeps ticking): gridlock names the starved pool and stops it.
    const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
    assert.equal(run.code, EXIT_HANG_FOUND, show(run));
    assert.equal(run.stdout, 'queued 2 reports\n');
    const starvation = only(run, 'pool-starvation');
    assert.match(starvation.message, new RegExp(`all 2 slots of pool 'pool' \\(${library}@`));
    const running = starvation.participants.filter((p) => /runs in a slot/.test(p.detail));
    const queued = starvation.participants.filter((p) => /queued by item/.test(p.detail));
    const reportLine = lineOf(file, reportCall);
    const chartLine = lineOf(file, chartCall);
    assert.deepEqual(lines(running), [reportLine, reportLine]);
    assert.deepEqual(lines(queued), [chartLine, chartLine]);
    // The chart a report waits for is the one queued on its behalf.
    for (const r of running) {
      const mine = queued.filter((q) => q.detail.includes(`queued by item ${r.task?.slice(r.task.lastIndexOf(':') + 1)},`));
      assert.equal(mine.length, 1, `${r.detail}: ${queued.map((q) => q.detail).join(' | ')}`);
    }
  });
}

test('no pool starvation while the workers of a full workerpool compute, though each item has a follow-up of its own queued behind it', async () => {
  const file = locks('workerpool-follow-ups.js');
  const [bare, run] = await Promise.all([runToEnd(testNode, [file]), runGridlock([testNode, file], { timeoutMs: 60_000 })]);
  assertUnchanged(run, bare);
  assert.equal(bare.stdout, 'sales: crunched\nstock: crunched\nsales: archived\nstock: archived\n');
  assert.deepEqual(run.report?.findings, []);
  // The pool was followed: its items, and the workers that ran them.
  const pool = run.report?.resources.find((r) => r.name === 'pool');
  assert.equal(pool?.completed, 4, JSON.stringify(run.report?.resources));
  assert.equal(pool?.workerThreadIds?.length, 2);
});

test('a semaphore deadlock: both permits are held by tasks waiting for the mutex their waiter holds', async () => {
  const file = locks('semaphore-deadlock.js');
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assert.equal(run.code, EXIT_HANG_FOUND, show(run));
  assert.equal(run.stdout, 'started\n');
  const deadlock = only(run, 'deadlock');
  assert.equal(deadlock.severity, 'error');
  const exportWaits = lineOf(file, 'await schema.acquire()', 1);
  const exportHolds = lineOf(file, 'await connections.acquire()', 1);
  const migrateHolds = lineOf(file, 'await schema.acquire()', 2);
  const migrateWaits = lineOf(file, 'await connections.acquire()', 2);
  assert.deepEqual(lines(byRole(deadlock, 'waits')), sorted([exportWaits, exportWaits, migrateWaits]));
  assert.deepEqual(lines(byRole(deadlock, 'holds')), sorted([exportHolds, exportHolds, migrateHolds]));
  assert.equal(new Set(deadlock.participants.map((p) => p.task)).size, 3, 'three tasks of one thread');
  const phrases = deadlock.message.replace(/^Deadlock: /, '').split('; ');
  assert.equal(phrases.filter((p) => /\(migrate at .*:\d+:\d+\) holds 'schema' and waits for 'connections'$/.test(p)).length, 1, deadlock.message);
  assert.equal(phrases.filter((p) => /\(exportTable at .*:\d+:\d+\) holds 'connections' and waits for 'schema'$/.test(p)).length, 2, deadlock.message);
  assert.deepEqual(run.report?.resources.map((r) => `${r.kind} ${r.name}`).sort(), ['mutex schema', 'semaphore connections']);
});

test('async-mutex waitForUnlock: two tasks each holding a mutex and waiting for the other to be free are a deadlock; a correct use gives nothing', async () => {
  const file = locks('wait-for-unlock.js');
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assert.equal(run.code, EXIT_HANG_FOUND, show(run));
  assert.equal(run.stdout, 'started\n');
  const deadlock = only(run, 'deadlock');
  assert.deepEqual(lines(byRole(deadlock, 'waits')), sorted([lineOf(file, 'await cache.waitForUnlock()'), lineOf(file, 'await config.waitForUnlock()')]));
  assert.deepEqual(lines(byRole(deadlock, 'holds')), sorted([lineOf(file, 'await config.acquire()'), lineOf(file, 'await cache.acquire()')]));
  assert.match(deadlock.message, /\(reload at [^)]*\) holds 'config' and waits for 'cache'/);
  assert.match(deadlock.message, /\(refresh at [^)]*\) holds 'cache' and waits for 'config'/);
  const [bare, correct] = await Promise.all([runToEnd(testNode, [file, 'correct']), runGridlock([testNode, file, 'correct'])]);
  assertUnchanged(correct, bare);
  assert.equal(correct.stdout, 'started\nreloaded\nrefreshed\n');
  assert.deepEqual(correct.report?.findings.map((f) => f.kind), []);
});

test('async-mutex bundled into the program by esbuild: tracked where Node has in-thread module hooks (22.15+, 24), at the lines of the program in the bundle; left alone on Node 20', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-bundle-'));
  try {
    const bundle = path.join(dir, 'transfer.js');
    buildSync({ entryPoints: [path.join(repoRoot, 'test', 'fixtures', 'bundled', 'transfer.js')], bundle: true, platform: 'node', outfile: bundle, logLevel: 'error' });
    assert.doesNotMatch(fs.readFileSync(bundle, 'utf8'), /require\("async-mutex"\)/, 'the library is inlined, not required');
    const [bare, run] = await Promise.all([runToEnd(testNode, [bundle]), runGridlock([testNode, bundle], { timeoutMs: 60_000 })]);
    assert.deepEqual([bare.code, bare.stdout], [0, 'started\n'], 'the deadlock drains silently without Gridlock');
    const inThreadHooks = execFileSync(testNode, ['-p', "typeof require('node:module').registerHooks"], { encoding: 'utf8' }).trim() === 'function';
    if (!inThreadHooks) {
      assertUnchanged(run, bare);
      assert.deepEqual(run.report?.resources, []);
      return;
    }
    assert.equal(run.code, EXIT_HANG_FOUND, show(run));
    assert.equal(run.stdout, 'started\n');
    assert.deepEqual(
      run.report?.resources.map((r) => [r.name, r.library, r.site?.line]),
      [
        ['checking', 'async-mutex@bundled', lineOf(bundle, 'var checking = new')],
        ['savings', 'async-mutex@bundled', lineOf(bundle, 'var savings = new')],
      ],
    );
    const deadlock = only(run, 'deadlock');
    assert.deepEqual(lines(byRole(deadlock, 'waits')), sorted([lineOf(bundle, 'await savings.acquire()', 1), lineOf(bundle, 'await checking.acquire()', 2)]));
    assert.deepEqual(lines(byRole(deadlock, 'holds')), sorted([lineOf(bundle, 'await checking.acquire()', 1), lineOf(bundle, 'await savings.acquire()', 2)]));
    assert.ok(deadlock.participants.every((p) => p.site?.file === bundle), 'every site is in the bundle');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Web Locks taken in opposite orders by two worker threads: a deadlock naming both threads and lines, before the threads exit (Node 24.5+; elsewhere the fixture says so)', async () => {
  const file = locks('web-locks-workers.js');
  if (!hasWebLocks) {
    const bare = await runToEnd(testNode, [file]);
    const run = await runGridlock([testNode, file]);
    assert.deepEqual([bare.code, bare.stdout], [0, 'no Web Locks\n']);
    assertUnchanged(run, bare);
    assert.deepEqual(run.report?.findings, []);
    assert.deepEqual(run.report?.resources, []);
    return;
  }
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assert.equal(run.code, EXIT_HANG_FOUND, show(run));
  const deadlock = only(run, 'deadlock');
  const waits = byRole(deadlock, 'waits');
  const holds = byRole(deadlock, 'holds');
  assert.deepEqual(lines(waits), [lineOf(file, 'const never = locks.request(second'), lineOf(file, 'const never = locks.request(second')]);
  assert.deepEqual(lines(holds), [lineOf(file, 'locks.request(first'), lineOf(file, 'locks.request(first')]);
  const pid = run.report?.processes[0]?.pid ?? 0;
  assert.deepEqual(new Set(waits.map((p) => threadName(run.report, p.pid, p.threadId))), new Set(['order-taker', 'stock-keeper']));
  for (const [thread, held, wanted] of [['order-taker', 'orders', 'stock'], ['stock-keeper', 'stock', 'orders']]) {
    assert.ok(holds.some((p) => p.pid === pid && threadName(run.report, p.pid, p.threadId) === thread && p.detail.startsWith(`holds '${held}'`)), `${thread} holds ${held}`);
    assert.ok(waits.some((p) => p.pid === pid && threadName(run.report, p.pid, p.threadId) === thread && p.detail.startsWith(`waits for '${wanted}'`)), `${thread} waits for ${wanted}`);
    assert.match(deadlock.message, new RegExp(`'${thread}' of pid ${pid} \\(at [^)]*\\) holds '${held}' and waits for '${wanted}'`));
  }
  // Reported when the cycle closed, not when the threads' loops drained: no worker exit before it.
  const stderr = run.stderr.split('\n');
  const found = stderr.findIndex((l) => l.startsWith('gridlock: ✖ Deadlock'));
  const exited = stderr.findIndex((l) => /'(order-taker|stock-keeper)' of pid \d+: exited/.test(l));
  assert.ok(found >= 0 && (exited < 0 || found < exited), run.stderr);
});

test('futex locks taken in opposite orders by two worker threads: one deadlock with both threads, where each holds and waits', async () => {
  const file = locks('futex-transfer.js');
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assert.equal(run.code, EXIT_HANG_FOUND, show(run));
  assert.equal(run.stdout, 'transferring\n');
  const deadlock = only(run, 'deadlock');
  const waits = byRole(deadlock, 'waits');
  const holds = byRole(deadlock, 'holds');
  assert.deepEqual(lines(waits), [lineOf(file, 'Atomics.wait(words, account, 1)'), lineOf(file, 'Atomics.wait(words, account, 1)')]);
  assert.deepEqual(lines(holds), [lineOf(file, 'Atomics.compareExchange(words, account, 0, 1)'), lineOf(file, 'Atomics.compareExchange(words, account, 0, 1)')]);
  for (const p of waits) assert.ok(p.stack?.some((f) => f.line === lineOf(file, 'lock(words, to); // both workers block here')), `the stack shows the second lock call: ${JSON.stringify(p.stack)}`);
  assert.deepEqual(new Set(waits.map((p) => threadName(run.report, p.pid, p.threadId))), new Set(['to-savings', 'to-checking']));
  // Each holds the word the other waits for.
  for (const w of waits) assert.ok(holds.some((h) => h.resource === w.resource && h.threadId !== w.threadId), JSON.stringify(deadlock.participants));
  assert.match(deadlock.message, /'to-savings' of pid \d+ \(lock at [^)]*\) holds '[^']+ byte 0' and waits for '[^']+ byte 4'/);
  assert.match(deadlock.message, /'to-checking' of pid \d+ \(lock at [^)]*\) holds '[^']+ byte 4' and waits for '[^']+ byte 0'/);
});

test('warning: a lock held longer than --long-hold-ms, exit status unchanged; the same hold under the 10 s default is no warning', async () => {
  const file = locks('long-hold.js');
  // Three runs side by side, each holding the lock for 1.5 s.
  const [bare, run, byDefault] = await Promise.all([
    runToEnd(testNode, [file, '1500'], { timeoutMs: 60_000 }),
    runGridlock([testNode, file, '1500'], { extra: ['--long-hold-ms', '1000'], timeoutMs: 60_000 }),
    runGridlock([testNode, file, '1500'], { timeoutMs: 60_000 }),
  ]);
  assertUnchanged(run, bare);
  assert.equal(run.stdout, 'exported paid\n');
  const finding = only(run, 'lock-held-too-long');
  assert.equal(finding.severity, 'warning');
  assert.match(finding.message, /'ledger' \(async-mutex@[^ ]+ mutex\) held by task \S+ of main thread of pid \d+ for 1\.\d s/);
  assert.deepEqual(lines(byRole(finding, 'holds')), [lineOf(file, 'await ledger.acquire()')]);
  assertUnchanged(byDefault, bare);
  assert.deepEqual(byDefault.report?.findings.map((f) => f.kind), []);
});

test('warning: a release by a task that does not hold the lock (a timed-out acquire whose finally releases), exit status unchanged', async () => {
  const file = locks('release-non-holder.js');
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assertUnchanged(run, bare);
  assert.equal(run.stdout, 'rebuilt\nrefresh: timeout while waiting for mutex to become available\n');
  const finding = only(run, 'release-by-non-holder');
  assert.equal(finding.severity, 'warning');
  assert.match(finding.message, /released 'cacheLock' \(async-mutex@[^ ]+ mutex\)/);
  const releaser = byRole(finding, 'running');
  const holder = byRole(finding, 'holds');
  assert.deepEqual(lines(holder), [lineOf(file, 'await cacheLock.acquire()', 1)]);
  assert.deepEqual(lines(releaser), [lineOf(file, 'cacheLock.release(); // also runs when the acquire timed out')], finding.message);
  assert.notEqual(releaser[0]?.task, holder[0]?.task);
});

test('warning: a worker thread exits holding a futex lock another worker is queued for, exit status unchanged', async () => {
  const file = locks('futex-exit-holding.js');
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assertUnchanged(run, bare);
  assert.equal(run.stdout, 'importer failed: bad row 17\nexporter: gave up waiting for the table lock\n');
  const finding = only(run, 'exit-while-holding');
  assert.equal(finding.severity, 'warning');
  assert.match(finding.message, /worker \d+ 'importer' of pid \d+ exited while holding '[^']+ byte 0' \(taken at [^)]*futex-exit-holding\.js:\d+:\d+\); 1 task of other threads waits for what it held/);
  const [held] = byRole(finding, 'holds');
  const [orphan] = byRole(finding, 'waits');
  assert.deepEqual(lines(byRole(finding, 'holds')), [lineOf(file, 'Atomics.compareExchange(words, LOCK, 0, 1) !== 0) Atomics.wait(words, LOCK, 1)')]);
  assert.deepEqual(lines(byRole(finding, 'waits')), [lineOf(file, 'Atomics.wait(words, LOCK, 1, left)')]);
  assert.equal(threadName(run.report, held.pid, held.threadId), 'importer');
  assert.equal(threadName(run.report, orphan.pid, orphan.threadId), 'exporter');
  assert.equal(orphan.resource, held.resource);
  assert.match(orphan.detail, /^orphaned: waits for/);
});

test('warning: a child process exits holding a lock its parent serves and publishes, exit status unchanged', async () => {
  const file = locks('published-exit-holding.js');
  const bare = await runToEnd(testNode, [file]);
  const run = await runGridlock([testNode, file], { timeoutMs: 60_000 });
  assertUnchanged(run, bare);
  assert.equal(run.stdout, 'writer exited 3\nauditor: the ledger was abandoned\n');
  const finding = only(run, 'exit-while-holding');
  assert.equal(finding.severity, 'warning');
  assert.match(finding.message, /exited while holding 'ledger' \(taken at [^)]*published-exit-holding\.js:\d+:\d+\)/);
  const holds = byRole(finding, 'holds');
  assert.deepEqual(lines(holds), [lineOf(file, 'await acquire(); // takes the ledger')]);
  const writer = run.report?.processes.find((p) => p.pid === holds[0].pid);
  assert.deepEqual([writer?.argv.slice(-2), writer?.exitCode], [['child', 'writer'], 3]);
});
