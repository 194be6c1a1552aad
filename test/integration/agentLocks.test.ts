/**
 * Locks seen by the agent in real programs (test/fixtures/locks): the ResourceEvents each library
 * produces, with names, sites and task ids, and the program unchanged. Programs run on `testNode`
 * (Node 24 under scripts/withNode24.mjs).
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, run } from '../helpers/agentHarness';
import type { Finished, SeenEvent } from '../helpers/agentHarness';
import { testNode } from '../helpers/testNode';
import { lineOf } from '../helpers/runGridlock';
import type { ResourceEvent } from '../../src/protocol/resourceEvents';

const locksDir = path.join(repoRoot, 'test', 'fixtures', 'locks');

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'ignore' });
  // test/fixtures/locks/versions/node_modules (git-ignored): a second copy of async-mutex with
  // another version number, and an "async-lock" of a shape the agent does not know.
  const modules = path.join(locksDir, 'versions', 'node_modules');
  rmSync(modules, { recursive: true, force: true });
  cpSync(path.join(repoRoot, 'node_modules', 'async-mutex'), path.join(modules, 'async-mutex'), { recursive: true });
  const manifest = path.join(modules, 'async-mutex', 'package.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"version": "0.5.0"', '"version": "0.5.0-copy"'));
  mkdirSync(path.join(modules, 'async-lock'), { recursive: true });
  writeFileSync(path.join(modules, 'async-lock', 'package.json'), JSON.stringify({ name: 'async-lock', version: '9.0.0', main: 'index.js' }));
  writeFileSync(
    path.join(modules, 'async-lock', 'index.js'),
    'module.exports = class AsyncLock { constructor() { this.version = 9; } acquire(key, fn) { return Promise.resolve().then(fn); } };\n',
  );
});

const lockFixture = (name: string): string => path.join(locksDir, name);
const nodeMajor = Number(execFileSync(testNode, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
const hasWebLocks = execFileSync(testNode, ['-p', 'typeof globalThis.navigator?.locks?.request'], { encoding: 'utf8' }).trim() === 'function';

type Resource = ResourceEvent & { sender: number; thread: number };
const RESOURCE_TYPES = new Set(['resource-created', 'lock-wait', 'lock-acquired', 'lock-released', 'lock-wait-ended', 'queue-stats', 'pool-task']);
const resourceEvents = (events: SeenEvent[]): Resource[] => events.filter((e) => RESOURCE_TYPES.has(e.type)) as unknown as Resource[];

/**
 * The resource events as short lines: resources by name, tasks by order of first appearance
 * (T1, T2, …; `thread:<pid>:<tid>` as `thread<tid>`), sites as `@line`.
 */
function describeEvents(events: Resource[], file?: string): string[] {
  const names = new Map<string, string>();
  const tasks = new Map<string, string>();
  const task = (id: string): string => {
    const thread = /^thread:\d+:(\d+)$/.exec(id);
    if (thread) return `thread${thread[1]}`;
    let label = tasks.get(id);
    if (label === undefined) tasks.set(id, (label = `T${tasks.size + 1}`));
    return label;
  };
  const asPath = (f: string): string => (f.startsWith('file://') ? fileURLToPath(f) : f);
  const at = (site?: { file: string; line: number }): string => (site === undefined ? '' : file === undefined || asPath(site.file) === file ? ` @${site.line}` : ` @${path.basename(site.file)}:${site.line}`);
  const lines: string[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'resource-created':
        names.set(e.resourceId, e.name);
        lines.push(`created ${e.kind} ${e.name} ${e.library}${e.capacity !== undefined ? ` capacity ${e.capacity}` : ''}${at(e.site)}`);
        break;
      case 'lock-wait':
        lines.push(`wait ${names.get(e.resourceId) ?? e.resourceId}${e.key !== undefined ? `[${e.key}]` : ''} ${task(e.taskId)}${e.permits !== undefined && e.permits !== 1 ? ` x${e.permits}` : ''}${at(e.site)}`);
        break;
      case 'lock-acquired':
        lines.push(`acquired ${names.get(e.resourceId) ?? e.resourceId}${e.key !== undefined ? `[${e.key}]` : ''} ${task(e.taskId)}${e.permits !== undefined && e.permits !== 1 ? ` x${e.permits}` : ''}${e.steal === true ? ' steal' : ''}${at(e.site)}`);
        break;
      case 'lock-released':
        lines.push(`released ${names.get(e.resourceId) ?? e.resourceId}${e.key !== undefined ? `[${e.key}]` : ''} ${task(e.taskId)}${e.holderTaskId !== undefined ? ` for ${task(e.holderTaskId)}` : ''}`);
        break;
      case 'lock-wait-ended':
        lines.push(`wait-ended ${names.get(e.resourceId) ?? e.resourceId} ${task(e.taskId)} ${e.reason}`);
        break;
      default:
        break;
    }
  }
  return lines;
}

/**
 * Replays lock events in order and returns the first wait-for cycle (tasks), or undefined.
 * A waiting task points at every holder of what it waits for (per key for keyed locks).
 */
export function findCycle(events: Resource[]): string[] | undefined {
  const holders = new Map<string, Map<string, number>>();
  const waiting = new Map<string, string>();
  const keyOf = (resourceId: string, key?: string): string => (key === undefined ? resourceId : `${resourceId}#${key}`);
  const cycleFrom = (start: string): string[] | undefined => {
    const path: string[] = [];
    const seen = new Set<string>();
    const visit = (taskId: string): boolean => {
      const resource = waiting.get(taskId);
      if (resource === undefined) return false;
      for (const holder of holders.get(resource)?.keys() ?? []) {
        if (holder === taskId) continue;
        if (holder === start) return true;
        if (seen.has(holder)) continue;
        seen.add(holder);
        path.push(holder);
        if (visit(holder)) return true;
        path.pop();
      }
      return false;
    };
    return visit(start) ? [start, ...path] : undefined;
  };
  for (const e of events) {
    if (e.type === 'lock-wait') {
      waiting.set(e.taskId, keyOf(e.resourceId, e.key));
      const cycle = cycleFrom(e.taskId);
      if (cycle) return cycle;
    } else if (e.type === 'lock-acquired') {
      const key = keyOf(e.resourceId, e.key);
      // A hold reported late (past the detailed budget) may come after its task began waiting elsewhere.
      if (waiting.get(e.taskId) === key) waiting.delete(e.taskId);
      const map = holders.get(key) ?? new Map<string, number>();
      map.set(e.taskId, (map.get(e.taskId) ?? 0) + 1);
      holders.set(key, map);
    } else if (e.type === 'lock-released') {
      const map = holders.get(keyOf(e.resourceId, e.key));
      const holder = e.holderTaskId ?? e.taskId;
      const count = map?.get(holder) ?? 0;
      if (count <= 1) map?.delete(holder);
      else map?.set(holder, count - 1);
    } else if (e.type === 'lock-wait-ended') {
      if (waiting.get(e.taskId)?.startsWith(e.resourceId)) waiting.delete(e.taskId);
    }
  }
  return undefined;
}

/** Runs the fixture with and without the agent: same stdout, stderr and exit status. */
/** On Node 20, ES imports of ES-only packages are tracked on request (GRIDLOCK_ESM_HOOKS=1: Node's hooks thread). */
async function runBoth(name: string, args: string[] = []): Promise<Finished> {
  const env = name.endsWith('.mjs') ? { GRIDLOCK_ESM_HOOKS: '1' } : {};
  const [withAgent, without] = await Promise.all([run([lockFixture(name), ...args], { env }), run([lockFixture(name), ...args], { agent: false })]);
  assert.equal(withAgent.stdout, without.stdout, `stdout of ${name}`);
  assert.equal(withAgent.stderr, without.stderr, `stderr of ${name}`);
  assert.equal(withAgent.code, without.code, `exit status of ${name}`);
  return withAgent;
}

describe('agent: locks', () => {
  it('async-mutex: names, sites, and one task per flow across two acquisitions', async () => {
    const result = await runBoth('mutex-basic.js');
    assert.equal(result.stdout, 'a,b\n');
    const events = resourceEvents(result.events);
    assert.deepEqual(describeEvents(events, lockFixture('mutex-basic.js')), [
      'created mutex accounts async-mutex@0.5.0 capacity 1 @4',
      'acquired accounts T1 @7',
      'wait accounts T2 @7',
      'released accounts T1',
      'acquired accounts T2 @7',
      'wait accounts T1 @10',
      'released accounts T2',
      'acquired accounts T1 @10',
      'wait accounts T2 @10',
      'released accounts T1',
      'acquired accounts T2 @10',
      'released accounts T2',
    ]);
    const [pid] = [result.events[0].sender];
    for (const e of events) {
      assert.match(e.resourceId, new RegExp(`^${pid}:0:r\\d+$`));
      if ('taskId' in e) assert.match(e.taskId, new RegExp(`^${pid}:0:t\\d+$`));
    }
    // The site carries the column and function too.
    const firstWait = events.find((e) => e.type === 'lock-wait');
    assert.deepEqual(firstWait?.type === 'lock-wait' && [firstWait.site?.column, firstWait.site?.functionName], [34, 'transfer']);
    assert.equal(findCycle(events), undefined);
  });

  for (const [fixtureName, style] of [
    ['mutex-deadlock.js', 'acquire/release'],
    ['mutex-deadlock-run.js', 'runExclusive'],
  ] as const) {
    it(`async-mutex deadlock (${style}): task A holds X and waits for Y, task B holds Y and waits for X, before the process drains`, async () => {
      const result = await runBoth(fixtureName);
      assert.equal(result.stdout, 'started\n');
      const events = resourceEvents(result.events);
      const lines = describeEvents(events, lockFixture(fixtureName));
      const expected =
        style === 'acquire/release'
          ? ['created mutex accountA async-mutex@0.5.0 capacity 1 @4', 'created mutex accountB async-mutex@0.5.0 capacity 1 @5', 'acquired accountA T1 @8', 'acquired accountB T2 @16', 'wait accountB T1 @10', 'wait accountA T2 @18']
          : ['created mutex accountA async-mutex@0.5.0 capacity 1 @4', 'created mutex accountB async-mutex@0.5.0 capacity 1 @5', 'acquired accountA T1 @8', 'acquired accountB T2 @15', 'wait accountB T1 @10', 'wait accountA T2 @17'];
      assert.deepEqual(lines, expected);
      const cycle = findCycle(events);
      assert.ok(cycle, 'the events close a cycle');
      assert.equal(cycle.length, 2);
      // Every lock event came before the thread drained, and the drain lists both waits.
      const drainAt = result.events.findIndex((e) => e.type === 'drain');
      assert.ok(drainAt > result.events.findIndex((e) => (e as unknown as Resource).type === 'lock-wait' && (e as unknown as { taskId: string }).taskId === cycle[1]));
      const drain = result.events[drainAt];
      assert.ok(drain.type === 'drain');
      assert.deepEqual(
        drain.pending.filter((p) => p.kind === 'lock').map((p) => p.site?.line),
        style === 'acquire/release' ? [10, 18] : [10, 17],
      );
    });
  }

  it('past the detailed budget, the holders of a deadlock are still reported (without a site) when the waits come', async () => {
    const result = await runBoth('mutex-budget.js');
    assert.equal(result.stdout, 'started\n');
    const events = resourceEvents(result.events);
    const lines = describeEvents(events, lockFixture('mutex-budget.js'));
    // 256 detailed acquisitions of each mutex (with sites), then only the deadlock.
    assert.equal(lines.filter((l) => l.startsWith('acquired left') && l.endsWith('@11')).length, 256);
    // Each holder is sent right before the first wait for what it holds: second (T2) holds right,
    // first (T3) waits for it; first holds left, second waits for it.
    assert.deepEqual(lines.slice(-4), ['acquired right T2', 'wait right T3 @19', 'acquired left T3', 'wait left T2 @25']);
    const cycle = findCycle(events);
    assert.ok(cycle, 'the events close a cycle');
    assert.equal(cycle.length, 2);
  });

  it('async-mutex Semaphore: permits, weights, and a parent that awaited its children gets a task of its own', async () => {
    const result = await runBoth('semaphore.js');
    assert.equal(result.stdout, '0,1,2 2\n');
    assert.deepEqual(describeEvents(resourceEvents(result.events), lockFixture('semaphore.js')), [
      'created semaphore connections async-mutex@0.5.0 capacity 2 @4',
      'acquired connections T1 @7',
      'acquired connections T2 @7',
      'wait connections T3 x2 @7',
      'released connections T1',
      'released connections T2',
      'acquired connections T3 x2 @7',
      'released connections T3',
      'acquired connections T4 @15',
      'released connections T4',
    ]);
  });

  it('async-mutex withTimeout and tryAcquire: the waits carry their timeout (they cannot deadlock)', async () => {
    const result = await runBoth('mutex-timeout.js');
    assert.equal(result.stdout, 'timeout busy false\n');
    const events = resourceEvents(result.events);
    assert.deepEqual(describeEvents(events, lockFixture('mutex-timeout.js')), [
      'created mutex config async-mutex@0.5.0 capacity 1 @4',
      'acquired config T1 @8',
      'wait config T1 @9',
      'wait config T1 @10',
      'released config T1',
      // The library takes the lock for the requests that timed out and gives it back at once.
      'acquired config T1 @9',
      'released config T1',
      'acquired config T1 @10',
      'released config T1',
    ]);
    assert.deepEqual(events.filter((e) => e.type === 'lock-wait').map((e) => e.type === 'lock-wait' && e.timeoutMs), [20, 0]);
  });

  it('async-lock: keys, key arrays and callback mode, one task per call (a key array is one call)', async () => {
    const result = await runBoth('async-lock.js');
    assert.equal(result.stdout, 'a,b cb\n');
    assert.deepEqual(describeEvents(resourceEvents(result.events), lockFixture('async-lock.js')), [
      'created keyed-lock lock async-lock@1.5.0 @4',
      'acquired lock[orders] T1 @7',
      'wait lock[orders] T2 @7',
      'released lock[orders] T1',
      'acquired lock[orders] T2 @7',
      // Each call is a task of its own: the flows hold nothing between their calls, and a task made
      // for a callback is never entered into the flow (it would leak into the caller: tasks.ts).
      'wait lock[orders] T3 @8',
      'released lock[orders] T2',
      'acquired lock[orders] T3 @8',
      'acquired lock[stock] T3 @8',
      'wait lock[orders] T4 @8',
      'released lock[stock] T3',
      'released lock[orders] T3',
      'acquired lock[orders] T4 @8',
      'acquired lock[stock] T4 @8',
      'released lock[stock] T4',
      'released lock[orders] T4',
      'acquired lock[callback] T5 @13',
      'released lock[callback] T5',
    ]);
  });

  it('async-sema: a third sibling waits for a token', async () => {
    const result = await runBoth('async-sema.js');
    assert.equal(result.stdout, '0,1,2\n');
    assert.deepEqual(describeEvents(resourceEvents(result.events), lockFixture('async-sema.js')), [
      'created semaphore slots async-sema@3.1.1 capacity 2 @4',
      'acquired slots T1 @7',
      'acquired slots T2 @7',
      'wait slots T3 @7',
      'released slots T1',
      'acquired slots T3 @7',
      'released slots T2',
      'released slots T3',
    ]);
  });

  it('ES module imports: async-mutex (index.mjs) and await-lock (ES only), tracked on Node 20 (off-thread hooks, on request) and 24 (in-thread hooks)', async () => {
    const result = await runBoth('mutex-esm.mjs');
    assert.equal(result.stdout, 'a,b\n');
    const lines = describeEvents(resourceEvents(result.events), lockFixture('mutex-esm.mjs'));
    assert.deepEqual(lines, [
      'created mutex cache async-mutex@0.5.0 capacity 1 @5',
      'acquired cache T1 @9',
      'wait cache T2 @9',
      'released cache T1',
      'acquired cache T2 @9',
      'created mutex gate await-lock@3.0.0 capacity 1 @10',
      // runExclusive's tasks were its calls' only: acquireAsync enters a task of the flow's own.
      'acquired gate T3 @10',
      'released gate T3',
      'released cache T2',
      'acquired gate T4 @10',
      'released gate T4',
    ]);
  });

  it('await-lock (ES only): tryAcquire, and a wait with a timeout that ends', async () => {
    const result = await runBoth('await-lock.mjs');
    assert.equal(result.stdout, 'a,b Timed out waiting for lock\n');
    const lines = describeEvents(resourceEvents(result.events), lockFixture('await-lock.mjs'));
    assert.deepEqual(lines, [
      'created mutex lock await-lock@3.0.0 capacity 1 @7',
      'acquired lock T1 @7',
      'wait lock T2 @7',
      'released lock T1',
      'acquired lock T2 @7',
      'released lock T2',
      // T1's tryAcquire lost: T2 got the lock straight from T1's release. T2's own one won.
      'acquired lock T2 @13',
      'released lock T2',
      // Top-level code after awaiting both tasks is a task of its own.
      'acquired lock T3 @18',
      'wait lock T3 @19',
      'wait-ended lock T3 timeout',
      'released lock T3',
    ]);
    const timed = resourceEvents(result.events).find((e) => e.type === 'lock-wait' && e.site?.line === 19);
    assert.equal(timed?.type === 'lock-wait' && timed.timeoutMs, 5);
  });

  it('Web Locks across worker threads: each thread holds one lock and waits for the other', async () => {
    const result = await runBoth('web-locks.js');
    if (!hasWebLocks) {
      assert.equal(result.stdout, 'no web locks\n');
      assert.deepEqual(resourceEvents(result.events), []);
      return;
    }
    assert.equal(result.stdout, 'deadlocked\n');
    const events = resourceEvents(result.events);
    const pid = result.events[0].sender;
    const main = describeEvents(events.filter((e) => e.thread === 0), lockFixture('web-locks.js'));
    const worker = describeEvents(events.filter((e) => e.thread !== 0), lockFixture('web-locks.js'));
    assert.deepEqual(main, ['created web-lock orders web-locks @11', 'wait orders[orders] T1 @11', 'acquired orders[orders] T1 @11', 'created web-lock stock web-locks @13', 'wait stock[stock] T1 @13']);
    assert.deepEqual(worker, ['created web-lock stock web-locks @21', 'wait stock[stock] T1 @21', 'acquired stock[stock] T1 @21', 'created web-lock orders web-locks @24', 'wait orders[orders] T1 @24']);
    // Resource ids are shared by the threads of the process; tasks are per thread.
    assert.deepEqual([...new Set(events.map((e) => e.resourceId))].sort(), [`weblock:${pid}:orders`, `weblock:${pid}:stock`]);
    const cycle = findCycle([...events].sort((a, b) => a.ts - b.ts));
    assert.ok(cycle, 'the two threads wait for each other');
    assert.deepEqual(new Set(cycle.map((t) => t.split(':')[1])).size, 2);
  });

  it('Web Locks options: ifAvailable gets null (unavailable), an aborted signal ends the wait, a steal says so', async () => {
    const file = lockFixture('web-locks-options.js');
    const result = await runBoth('web-locks-options.js');
    if (!hasWebLocks) {
      assert.equal(result.stdout, 'no Web Locks\n');
      return;
    }
    assert.equal(result.stdout, 'ifAvailable got null\nthe waiter gave up: AbortError\nthe auditor stole the lock\nthe report writer lost the lock: AbortError\na plain request gets the lock\n');
    const line = (text: string): number => lineOf(file, text);
    assert.deepEqual(describeEvents(resourceEvents(result.events), file), [
      `created web-lock report web-locks @${line("const held = locks.request('report'")}`,
      `wait report[report] T1 @${line("const held = locks.request('report'")}`,
      `acquired report[report] T1 @${line("const held = locks.request('report'")}`,
      // Each request of main's is a task of its own (its callback's scope): main holds nothing between them.
      `wait report[report] T2 @${line('ifAvailable: true')}`,
      'wait-ended report T2 unavailable',
      `wait report[report] T3 @${line('signal: controller.signal')}`,
      'wait-ended report T3 aborted',
      `wait report[report] T4 @${line('steal: true')}`,
      `acquired report[report] T4 steal @${line('steal: true')}`,
      'released report[report] T4',
      `wait report[report] T5 @${line('a plain request gets the lock')}`,
      `acquired report[report] T5 @${line('a plain request gets the lock')}`,
      'released report[report] T5',
      // The writer's callback ends after the lock was stolen from it: the model takes this release as no news.
      'released report[report] T1',
    ]);
  });

  it('futex locks across workers: the holder thread is inferred from compareExchange, the barrier counter is not a lock', async () => {
    const result = await runBoth('futex.js');
    assert.equal(result.stdout, 'deadlocked\n');
    const events = resourceEvents(result.events);
    const workers = [...new Set(events.map((e) => e.thread))].sort();
    assert.equal(workers.length, 2);
    const [first, second] = workers;
    const shared = result.events.find((e) => e.type === 'worker-created' && e.thread === 0);
    assert.ok(shared?.type === 'worker-created');
    const bufferId = shared.sharedBuffers?.[0]?.id;
    assert.ok(bufferId);
    const ids = new Set(events.map((e) => e.resourceId));
    assert.deepEqual([...ids].sort(), [`futex:${bufferId}:0`, `futex:${bufferId}:4`]);
    for (const thread of [first, second]) {
      const own = events.filter((e) => e.thread === thread);
      const lines = describeEvents(own, lockFixture('futex.js'));
      const holds = own.find((e) => e.type === 'lock-acquired');
      const waits = own.find((e) => e.type === 'lock-wait');
      assert.ok(holds?.type === 'lock-acquired' && waits?.type === 'lock-wait', lines.join('\n'));
      assert.equal(holds.taskId, `thread:${result.events[0].sender}:${thread}`);
      assert.equal(waits.taskId, holds.taskId);
      assert.notEqual(holds.resourceId, waits.resourceId);
      assert.equal(holds.site?.line, 14);
      assert.equal(waits.site?.line, 14);
      assert.equal(waits.timeoutMs, null);
    }
    const cycle = findCycle([...events].sort((a, b) => a.ts - b.ts));
    assert.ok(cycle, 'the two threads wait for each other');
  });

  it('heavy correct use: thousands of tasks under a p-queue never hold and wait in a cycle', async () => {
    const result = await runBoth('heavy.js');
    assert.equal(result.stdout, 'total 3000\n');
    const events = resourceEvents(result.events);
    // Contention shows in the waits of each resource's detailed budget; past it, short waits stay in
    // the agent (LockTracker's cost policy), so a correct busy program sends only some hundreds.
    const waits = events.filter((e) => e.type === 'lock-wait').length;
    assert.ok(waits > 500 && waits < 3000, `the tasks really contended, and the short waits past the budget stayed in the agent (${waits} waits sent)`);
    assert.equal(result.events.filter((e) => e.type === 'dropped').length, 0);
    assert.equal(findCycle(events), undefined);
    // Holds are balanced: everything acquired was released.
    const balance = new Map<string, number>();
    for (const e of events) {
      if (e.type === 'lock-acquired') balance.set(e.resourceId, (balance.get(e.resourceId) ?? 0) + 1);
      if (e.type === 'lock-released') balance.set(e.resourceId, (balance.get(e.resourceId) ?? 0) - 1);
    }
    assert.deepEqual([...balance.values()].filter((v) => v !== 0), []);
  });

  it('two copies of a library are tracked each with its version; an unknown shape is left alone and noted', async () => {
    const result = await runBoth(path.join('versions', 'main.js'));
    assert.equal(result.stdout, 'two copies 9\n');
    const file = lockFixture(path.join('versions', 'main.js'));
    assert.deepEqual(describeEvents(resourceEvents(result.events), file), [
      'created mutex local async-mutex@0.5.0-copy capacity 1 @9',
      'created mutex project async-mutex@0.5.0 capacity 1 @10',
      'acquired local T1 @12',
      'acquired project T1 @12',
      'released project T1',
      'released local T1',
    ]);
    const notes = result.events.filter((e) => e.type === 'hello').flatMap((e) => (e.type === 'hello' ? e.notes ?? [] : []));
    assert.deepEqual(notes, ['async-lock@9.0.0 not tracked: not a version the agent recognises']);
  });

  it('runs on the expected Node', () => {
    assert.ok(nodeMajor >= 20);
  });
});

/** Queue and pool events as short lines: resources by name, items by order (I1, I2, …). */
function describeQueues(events: Resource[], file: string): string[] {
  const names = new Map<string, string>();
  const items = new Map<string, string>();
  const item = (id: string): string => {
    let label = items.get(id);
    if (label === undefined) items.set(id, (label = `I${items.size + 1}`));
    return label;
  };
  const lines: string[] = [];
  for (const e of events) {
    if (e.type === 'resource-created') {
      names.set(e.resourceId, e.name);
      const site = e.site === undefined ? '' : ` @${(e.site.file.startsWith('file://') ? fileURLToPath(e.site.file) : e.site.file) === file ? '' : `${path.basename(e.site.file)}:`}${e.site.line}`;
      lines.push(`created ${e.kind} ${e.name} ${e.library} capacity ${e.capacity}${site}`);
    } else if (e.type === 'pool-task') {
      lines.push(`${names.get(e.resourceId)} ${item(e.taskId)} ${e.state}${e.site ? ` @${e.site.line}` : ''}`);
    }
  }
  return lines;
}

describe('agent: queues and pools', () => {
  it('p-queue, fastq and async.queue: items queued, running and done in order, counters sent', async () => {
    const result = await runBoth('queues.js');
    assert.equal(result.stdout, '1,2,3 2,4\n');
    const events = resourceEvents(result.events);
    assert.deepEqual(describeQueues(events, lockFixture('queues.js')), [
      'created queue downloads p-queue@9.3.5 capacity 2 @9',
      'downloads I1 queued @9',
      'downloads I1 running',
      'downloads I2 queued @9',
      'downloads I2 running',
      'downloads I3 queued @9',
      'downloads I1 done',
      'downloads I3 running',
      'downloads I2 done',
      'downloads I3 done',
      'created queue resize fastq@1.20.3 capacity 1 @10',
      'resize I4 queued @11',
      'resize I4 running',
      'resize I5 queued @11',
      'resize I4 done',
      'resize I5 running',
      'resize I5 done',
      'created queue uploads async@3.2.6 capacity 1 @12',
      'uploads I6 queued @13',
      'uploads I7 queued @14',
      'uploads I6 running',
      'uploads I6 done',
      'uploads I7 running',
      'uploads I7 done',
    ]);
    const stats = events.filter((e) => e.type === 'queue-stats');
    assert.ok(stats.length >= 3);
    const first = stats[0];
    assert.ok(first.type === 'queue-stats');
    assert.deepEqual([first.size, first.running, first.concurrency, first.paused, first.completed], [1, 0, 2, false, 0]);
  });

  it('piscina and workerpool: pool items with the pool size as capacity', async () => {
    const result = await runBoth('pools.js');
    assert.equal(result.stdout, '3,7 42\n');
    assert.deepEqual(describeQueues(resourceEvents(result.events), lockFixture('pools.js')), [
      'created pool adders piscina@5.3.2 capacity 1 @7',
      'adders I1 queued @7',
      'adders I1 running',
      'adders I2 queued @7',
      'adders I1 done',
      'adders I2 running',
      'adders I2 done',
      'created pool helpers workerpool@10.0.3 capacity 1 @9',
      'helpers I3 queued @10',
      'helpers I3 running',
      'helpers I3 done',
    ]);
    // The pools' own worker threads load the libraries without notes about unknown versions.
    assert.deepEqual(result.events.filter((e) => e.type === 'hello' && e.notes !== undefined), []);
  });

  it('p-limit (ES only), imported: the limit function keeps its properties', async () => {
    const result = await runBoth('p-limit.mjs');
    assert.equal(result.stdout, '10,20 0 0 1\n');
    const lines = describeQueues(resourceEvents(result.events), lockFixture('p-limit.mjs'));
    assert.deepEqual(lines, ['created queue limit p-limit@7.3.3 capacity 1 @4', 'limit I1 queued @5', 'limit I2 queued @5', 'limit I1 running', 'limit I1 done', 'limit I2 running', 'limit I2 done']);
  });

  it('tinypool (ES only), imported', async () => {
    const result = await runBoth('pools.mjs');
    assert.equal(result.stdout, '3,10\n');
    const lines = describeQueues(resourceEvents(result.events), lockFixture('pools.mjs'));
    assert.deepEqual(lines, ['created pool pool tinypool@2.2.0 capacity 1 @4', 'pool I1 queued @4', 'pool I1 running', 'pool I2 queued @4', 'pool I1 done', 'pool I2 running', 'pool I2 done']);
  });
});
