// LockTracker.stack remembers formatted stacks by their frames' positions: the same call stack
// gives the same (frozen) frames without formatting them again, another line gives its own, and a
// library directory added later is left out of stacks remembered before it.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as asyncHooks from 'node:async_hooks';
import * as path from 'node:path';
import { fakeAgentContext } from './fakes/agentContext';
import type { StackFrames } from '../../src/protocol/agentEvents';
import { LockTracker } from '../../src/agent/locks/tracker';
import { Tasks } from '../../src/agent/locks/tasks';
import { PendingWaits } from '../../src/agent/pending';
import { stackKey } from '../../src/agent/stacks';

function makeTracker(): LockTracker {
  return new LockTracker(fakeAgentContext(), new Tasks('7:0', asyncHooks), new PendingWaits(() => true), undefined, undefined);
}

/** This file's line in the stack of `take`'s caller (the line of the call below). */
function lineHere(): number {
  return Number(/lockTrackerStacks\.test\.ts:(\d+)/.exec(new Error().stack?.split('\n')[2] ?? '')?.[1]);
}

/** The stack's first frame in this file (in unit tests the agent's sources are not one bundle, so its frames stay). */
function own(stack: StackFrames): StackFrames[number] | undefined {
  return stack.find((frame) => path.basename(frame.file) === 'lockTrackerStacks.test.ts');
}

function takeTwice(tracker: LockTracker): { stacks: StackFrames[]; line: number } {
  const stacks: StackFrames[] = [];
  let line = 0;
  for (let i = 0; i < 2; i++) {
    stacks.push(tracker.stack());
    line = lineHere();
  }
  return { stacks, line };
}

test('the same call stack gives the same frozen frames, with the line it was taken at', () => {
  const tracker = makeTracker();
  const { stacks, line } = takeTwice(tracker);
  assert.equal(stacks[0], stacks[1], 'the second stack is the one remembered');
  assert.ok(Object.isFrozen(stacks[0]) && Object.isFrozen(stacks[0][0]));
  assert.equal(own(stacks[0])?.line, line - 1, 'the line of the tracker.stack() call');
  assert.equal(own(stacks[0])?.functionName, 'takeTwice');
});

test('another line gives its own stack and its own key', () => {
  const tracker = makeTracker();
  const first = tracker.stack();
  const firstKey = stackKey();
  const second = tracker.stack();
  const secondKey = stackKey();
  assert.notEqual(first, second);
  assert.equal(own(second)?.line, (own(first)?.line ?? NaN) + 2);
  assert.notEqual(firstKey, secondKey);
  assert.ok(firstKey !== undefined && firstKey.length > 0);
});

test('a library directory added later is left out of a stack remembered before', () => {
  const tracker = makeTracker();
  const stacks: StackFrames[] = [];
  for (let i = 0; i < 2; i++) {
    // The same line both times: the second stack would be the one remembered, if nothing forgot it.
    if (i === 1) tracker.addLibraryDir(`${path.dirname(own(stacks[0])?.file ?? '')}/`);
    stacks.push(tracker.stack());
  }
  assert.ok(own(stacks[0]) !== undefined);
  assert.equal(own(stacks[1]), undefined, 'no frame of the directory now counted as a library');
});

test('a stack through evaluated code has no key (its frames do not say which source they ran)', () => {
  const callThrough = new Function('take', 'return take();') as (take: () => string | undefined) => string | undefined;
  assert.equal(callThrough(() => stackKey()), undefined);
  assert.notEqual(stackKey(), undefined);
});
