/**
 * How the agent tells one async flow from another when a task was passed on by enterWith
 * (src/agent/locks/tasks.ts, guard 3), against the real AsyncLocalStorage and V8 stacks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as asyncHooks from 'node:async_hooks';
import { functionsOnStack } from '../../src/agent/stacks';
import { Tasks } from '../../src/agent/locks/tasks';
import type { BuiltinMap } from '../../src/agent/builtins';

const thisFile = (file: string): boolean => file === __filename;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('functionsOnStack: the program functions on the synchronous stack, innermost first, and Error.prepareStackTrace as it was', () => {
  const before = Error.prepareStackTrace;
  function inner(): string[] | undefined {
    return functionsOnStack(16, thisFile);
  }
  function outer(): string[] | undefined {
    return inner();
  }
  const keys = outer() ?? [];
  assert.deepEqual(keys.slice(0, 2).map((key) => key.split(':').pop()), ['inner', 'outer']);
  assert.ok(keys.every((key) => key.startsWith(`${__filename}:`)));
  assert.equal(Error.prepareStackTrace, before);
});

test('sameFlow: the flow that entered a task goes on as itself; the parent that resumed with it after starting the flow is another flow', async () => {
  const tasks = new Tasks('1:0', asyncHooks as unknown as BuiltinMap['async_hooks']);
  tasks.isProgramFile = thisFile;
  const seen: Array<{ who: string; same: boolean }> = [];
  let entered: ReturnType<Tasks['enter']> | undefined;
  async function job(): Promise<void> {
    entered = tasks.enter();
    await tick();
    seen.push({ who: 'job', same: tasks.sameFlow(entered) });
  }
  async function parent(): Promise<void> {
    const running = job();
    await tick(); // the parent resumes with the task job entered (enterWith leaks into the caller)
    assert.equal(tasks.current(), entered);
    seen.push({ who: 'parent', same: tasks.sameFlow(entered as NonNullable<typeof entered>) });
    await running;
  }
  await parent();
  assert.deepEqual(seen.sort((a, b) => a.who.localeCompare(b.who)), [
    { who: 'job', same: true },
    { who: 'parent', same: false },
  ]);
});
