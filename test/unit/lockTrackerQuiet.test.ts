// LockTracker's cost policy past the detailed budget: a short wait sends nothing; a wait that
// outlasts a check period, or that is pending when the loop drains, is sent with the line it waits
// at (its stack was taken unformatted and is read only then). Fake channel, clock and timers.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as asyncHooks from 'node:async_hooks';
import { fakeAgentContext } from './fakes/agentContext';
import type { BuiltinMap } from '../../src/agent/builtins';
import type { ResourceEvent } from '../../src/protocol/resourceEvents';
import { DETAILED_ACQUISITIONS, LockTracker } from '../../src/agent/locks/tracker';
import { Tasks } from '../../src/agent/locks/tasks';
import { PendingWaits } from '../../src/agent/pending';

function setUp() {
  const sent: ResourceEvent[] = [];
  let clock = 1000;
  const timers: (() => void)[] = [];
  const context = fakeAgentContext(
    (e) => sent.push(e),
    () => clock,
  );
  const fakeTimers = {
    setTimeout: (fn: () => void) => {
      timers.push(fn);
      return { unref: () => undefined };
    },
  } as unknown as BuiltinMap['timers'];
  const tracker = new LockTracker(context, new Tasks('7:0', asyncHooks), new PendingWaits(() => true), undefined, fakeTimers);
  const resource = tracker.createResource({ kind: 'mutex', library: 'async-mutex@0.5.0', name: 'account' });
  const holder = tracker.tasks.newTask();
  // Spend the detailed budget: every acquisition so far was sent.
  for (let i = 0; i < DETAILED_ACQUISITIONS; i++) tracker.released(tracker.acquired(resource, holder), holder);
  sent.length = 0;
  const tick = (ms: number): void => {
    clock += ms;
    for (const fn of timers.splice(0)) fn();
  };
  return { sent, tracker, resource, holder, context, tick };
}

/** The test's own line, where the wait is made (the site the tracker must find). */
function waitHere(tracker: LockTracker, resource: ReturnType<typeof setUp>['resource'], task: ReturnType<LockTracker['tasks']['newTask']>) {
  return { waiter: tracker.wait(resource, task, {}), line: Number(/lockTrackerQuiet\.test\.ts:(\d+)/.exec(new Error().stack ?? '')?.[1]) };
}

test('past the detailed budget, a wait granted before a check period ends sends nothing', () => {
  const { sent, tracker, resource, holder, tick } = setUp();
  const holding = tracker.acquired(resource, holder);
  const waiting = tracker.tasks.newTask();
  const { waiter } = waitHere(tracker, resource, waiting);
  tracker.released(holding, holder);
  tracker.released(tracker.acquired(resource, waiting, waiter), waiting);
  tick(20);
  tick(20);
  assert.equal(sent.length, 0);
});

test('a wait that outlasts a check period is sent with the holding it waits behind, and the line it waits at when its task holds something', () => {
  const { sent, tracker, resource, holder, tick } = setUp();
  tracker.acquired(resource, holder);
  const waiting = tracker.tasks.newTask();
  // The waiting task holds another lock: it could be part of a deadlock, so its wait keeps its line.
  const other = tracker.createResource({ kind: 'mutex', library: 'async-mutex@0.5.0', name: 'other' });
  tracker.acquired(other, waiting);
  sent.length = 0;
  const { line } = waitHere(tracker, resource, waiting);
  tick(20);
  assert.equal(sent.length, 0, 'not yet: it may have begun just before the check');
  tick(20);
  assert.deepEqual(
    sent.map((e) => [e.type, 'taskId' in e ? e.taskId : undefined]),
    [
      ['lock-acquired', holder.id],
      ['lock-wait', waiting.id],
    ],
  );
  const wait = sent[1];
  assert.ok(wait.type === 'lock-wait');
  assert.equal(wait.site?.line, line);
  assert.match(wait.site?.file ?? '', /lockTrackerQuiet\.test\.ts$/);
  assert.ok(wait.ts <= 1020, `its time is when its check period began, not when it was sent (${wait.ts})`);
});

test('a held-back wait pending when the loop drains is sent before the drain', () => {
  const { sent, tracker, resource, holder, context } = setUp();
  tracker.acquired(resource, holder);
  const waiting = tracker.tasks.newTask();
  waitHere(tracker, resource, waiting);
  assert.equal(sent.length, 0);
  for (const send of context.beforeDrain) send();
  assert.deepEqual(
    sent.map((e) => e.type),
    ['lock-acquired', 'lock-wait'],
  );
});

test('a lasting wait of a task that holds nothing (it cannot be part of a deadlock) is sent without a site', () => {
  const { sent, tracker, resource, holder, tick } = setUp();
  tracker.acquired(resource, holder);
  const waiting = tracker.tasks.newTask();
  const other = tracker.createResource({ kind: 'mutex', library: 'async-mutex@0.5.0', name: 'other' });
  tracker.released(tracker.acquired(other, waiting), waiting);
  sent.length = 0;
  waitHere(tracker, resource, waiting);
  tick(20);
  tick(20);
  const wait = sent.find((e) => e.type === 'lock-wait');
  assert.ok(wait?.type === 'lock-wait');
  assert.equal(wait.taskId, waiting.id);
  assert.equal(wait.site, undefined);
});

test('held-back waits that end are let go even when no check period ends (a loop that never lets the timer run)', () => {
  const { sent, tracker, resource, holder, context } = setUp();
  const holding = tracker.acquired(resource, holder);
  const stillWaiting = tracker.tasks.newTask();
  const { waiter: lasting } = waitHere(tracker, resource, stillWaiting);
  for (let i = 0; i < 10_000; i++) {
    const task = tracker.tasks.newTask();
    const { waiter } = waitHere(tracker, resource, task);
    tracker.waitEnded(waiter, 'timeout');
  }
  const held = (tracker as unknown as { quietWaiters: unknown[] }).quietWaiters;
  assert.ok(held.length <= 2048, `${held.length} waits kept`);
  assert.ok(held.includes(lasting), 'the wait that goes on is kept');
  // The wait that goes on is still sent when the loop drains.
  for (const drain of context.beforeDrain) drain();
  assert.deepEqual(
    sent.filter((e) => e.type === 'lock-wait').map((e) => e.taskId),
    [stillWaiting.id],
  );
  tracker.released(holding, holder);
});
