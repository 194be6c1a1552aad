// The async-mutex adapter on the real library: only `acquire` and `release` are wrapped, so the
// grants are seen from there — at once (the quick path past the detailed budget), or when the
// library resolves a queued item — and a semaphore release ends the releasing task's own permit.
// Fake channel and clock; the library, its promises and the task storage are real.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as asyncHooks from 'node:async_hooks';
import { fakeAgentContext } from './fakes/agentContext';
import type { BuiltinMap } from '../../src/agent/builtins';
import type { ResourceEvent } from '../../src/protocol/resourceEvents';
import { DETAILED_ACQUISITIONS, LockTracker } from '../../src/agent/locks/tracker';
import { Tasks } from '../../src/agent/locks/tasks';
import { PendingWaits } from '../../src/agent/pending';
import { adoptAsyncMutex } from '../../src/agent/locks/asyncMutex';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const library = require('async-mutex') as typeof import('async-mutex');

const sent: ResourceEvent[] = [];
const context = fakeAgentContext((e) => sent.push(e));
const timers = { setTimeout: () => ({ unref: () => undefined }) } as unknown as BuiltinMap['timers'];
const tracker = new LockTracker(context, new Tasks('7:0', asyncHooks), new PendingWaits(() => true), undefined, timers);
assert.equal(adoptAsyncMutex(library as unknown as Record<string, unknown>, 'async-mutex@0.5.0', tracker), true);

/** The task of a lock event. */
const taskOf = (e: ResourceEvent): string | undefined => ('taskId' in e ? e.taskId : undefined);

/** The id of the first resource announced from event `from` on. */
function announcedSince(from: number): string {
  const id = sent.slice(from).find((e) => e.type === 'resource-created')?.resourceId;
  assert.ok(id !== undefined, 'the lock was announced');
  return id;
}

test('past the detailed budget an uncontended mutex pair sends nothing, and the mutex works as without the adapter', async () => {
  const mutex = new library.Mutex();
  for (let i = 0; i < DETAILED_ACQUISITIONS + 10; i++) (await mutex.acquire())();
  const before = sent.length;
  let order = '';
  for (let i = 0; i < 1000; i++) {
    const release = await mutex.acquire();
    assert.equal(mutex.isLocked(), true);
    order += 'a';
    release();
    assert.equal(mutex.isLocked(), false);
  }
  assert.equal(order.length, 1000);
  assert.equal(sent.length, before, 'nothing sent while all goes well');
});

test('a queued acquire is granted, in the library\'s order, when the holder releases; each grant is recorded with its task', async () => {
  const from = sent.length;
  const mutex = new library.Mutex();
  const granted: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // Three async functions started together: three tasks.
  const holder = (async () => {
    const r = await mutex.acquire();
    granted.push('holder');
    await held;
    r();
  })();
  const waits = ['first', 'second'].map((name) =>
    (async () => {
      const r = await mutex.acquire();
      granted.push(name);
      r();
    })(),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(granted, ['holder']);
  release();
  await Promise.all([holder, ...waits]);
  assert.deepEqual(granted, ['holder', 'first', 'second']);
  // In the detailed phase every grant is sent: the holder's and the two waiters', three tasks in all.
  const id = announcedSince(from);
  const acquired = sent.filter((e) => e.type === 'lock-acquired' && e.resourceId === id);
  assert.equal(acquired.length, 3);
  assert.equal(new Set(acquired.map(taskOf)).size, 3);
  const waitsSent = sent.filter((e) => e.type === 'lock-wait' && e.resourceId === id);
  assert.deepEqual(
    waitsSent.map(taskOf),
    acquired.slice(1).map(taskOf),
    'each waiter is granted under the task it waited as',
  );
});

test('a semaphore release ends the releasing task\'s own permit, and the values resolved are the library\'s', async () => {
  const from = sent.length;
  const semaphore = new library.Semaphore(2);
  const tasksOf: string[] = [];
  let releaseB: (() => void) | undefined;
  let valueA: number | undefined;
  let releasedA!: () => void;
  const held = new Promise<void>((resolve) => (releasedA = resolve));
  const a = (async () => {
    const [value, release] = await semaphore.acquire();
    valueA = value;
    await held;
    release();
  })();
  const b = (async () => {
    const [, release] = await semaphore.acquire();
    releaseB = release;
  })();
  await b;
  assert.equal(valueA, 2, 'the value the library resolved with');
  const id = announcedSince(from);
  for (const e of sent) if (e.type === 'lock-acquired' && e.resourceId === id) tasksOf.push(e.taskId);
  assert.equal(tasksOf.length, 2);
  (releaseB as () => void)();
  const releasedFirst = sent.filter((e) => e.type === 'lock-released' && e.resourceId === id);
  assert.equal(releasedFirst.length, 1);
  assert.equal(taskOf(releasedFirst[0]), tasksOf[1], 'B released its own permit, not A\'s');
  assert.equal(releasedFirst[0].type === 'lock-released' && releasedFirst[0].holderTaskId, undefined, 'no release by a non-holder');
  releasedA();
  await a;
  assert.equal(semaphore.getValue(), 2);
});
