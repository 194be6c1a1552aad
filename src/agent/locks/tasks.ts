/**
 * Tasks: the async flows that hold and wait for locks. A task is a small cell carried in an
 * AsyncLocalStorage created on the first use of a tracked library (a program without lock
 * libraries pays nothing; on Node 24 AsyncLocalStorage rides on AsyncContextFrame and is cheap,
 * on Node 20 it turns async_hooks on for the rest of the run).
 *
 * - Callback style (`runExclusive(fn)`, `lock.acquire(key, fn)`, `navigator.locks.request`): the
 *   call runs inside `als.run()` with a scoped entry, so the callback and all it awaits is the task.
 *   A call by a flow without a task gets a new one for the scope only ({@link Tasks.forCall}): it is
 *   never entered, so it cannot leak into the caller (a parent that starts jobs one per tick, each
 *   in `runExclusive`, would otherwise pass the first job's task on to all the others).
 * - Acquire style (`await mutex.acquire()`): the flow has no scope to run in, so the task is
 *   entered with `enterWith`, which also leaks into whatever the caller runs synchronously after the
 *   flow suspended (`t1(); t2();`), and into the caller's own continuation: a parent that awaited
 *   its children (`await Promise.all([t1(), t2()])`) resumes with the last child's entry. Three guards:
 *   1. each entry remembers the synchronous segment (epoch) it was last used in; a queued microtask
 *      ends the segment. An entry seen again in the same segment is a sibling's leak: the sibling
 *      gets a task of its own. The flow's own continuation runs after the segment and keeps its task
 *      (and marks the entry used in its segment again, when a caller of the flow may resume with
 *      it: not a module's top level). So a parent that resumed with a child's
 *      entry and starts several flows at once (a second batch of async loops) gives the entry to
 *      the first of them only: the others, started in the same segment, get tasks of their own.
 *      Without that mark, every flow of the second batch shared one task, and two of them
 *      contending for a mutex looked like a task waiting for a mutex it holds.
 *   2. when a stack is at hand (a resource's first acquisitions, and every wait) an entry is only
 *      kept if the function that first acquired in it is still on the (async) stack: a parent that
 *      resumed with a child's entry but not with the child's frames gets a task of its own.
 *   3. a parent that starts a job on every tick without awaiting it (`jobs.push(job()); await tick`)
 *      resumes with the running job's entry and passes it to the next job, and both jobs run the
 *      same function, so guard 2 cannot tell them apart. Two checks catch what that would break:
 *      - a task that waits for a lock (without a timeout), used again in a later segment, is
 *        another flow's (a flow does not go on while it waits): that flow gets a task of its own;
 *      - an entered task about to wait for a lock it holds already (a self-deadlock, or the second
 *        job waiting for the first) asks the stack ({@link Tasks.sameFlow}, LockTracker.wait): if
 *        the outermost function of the program now running was one of the callers of the flow's
 *        function when the task was entered, this is the parent's continuation, and the wait gets a
 *        task of its own. Reading the functions on the stack costs ~1 µs (no text): paid when a
 *        task is entered and in that shape only.
 *      Without them, the second of two such jobs waiting for the first looked like one task waiting
 *      for a mutex it holds, and the program was stopped. The stack cannot tell that parent apart
 *      from a caller that awaited the flow (`await lockFor(x)` with an async `lockFor`, a lock class
 *      with an async `acquire`), so it is asked only in the self-deadlock shape: a self-deadlock
 *      whose second acquire runs in such a caller is then seen as the wait it is (a stall or a
 *      drain reports it), while deadlocks between such flows keep their cycle.
 */
import type { BuiltinMap } from '../builtins';
import type { SourceSite, StackFrames } from '../../protocol/agentEvents';
import { originalThen } from './patch';
import { functionsOnStack } from '../stacks';

export interface TaskCell {
  id: string;
  /** The function (and file) of the task's first acquisition, when known. */
  origin?: { fn: string; file: string };
  /** Where the task last asked for a lock (fallback site for library-internal calls). */
  site?: SourceSite;
  /** How many holds it has now (LockTracker keeps the count). */
  holds?: number;
  /** How many waits without a timeout it has now (LockTracker keeps the count). */
  waits?: number;
  /**
   * An entered task: the program's functions on the stack when it was entered, innermost first
   * (see {@link Tasks.sameFlow}). Absent for tasks that are never entered.
   */
  entered?: string[];
  /**
   * A function of the program that called the flow's when it was entered may resume with the
   * task (guard 1): a module's top level never resumes (`main()` at the bottom of a file).
   */
  passedOn?: boolean;
}

/** Frames read for a task's functions: deep enough for a framework's stack under the program's. */
const FLOW_FRAMES = 64;
/** How functionsOnStack names a module's top level (anonymous, from the file's first character). */
const MODULE_TOP = ':1:1:';

interface Entry {
  cell: TaskCell;
  /** Segment it was entered in by enterWith; -1 for run() scopes. */
  epoch: number;
}

interface Storage {
  getStore(): Entry | undefined;
  enterWith(entry: Entry): void;
  run<R>(entry: Entry, fn: (target: (...a: unknown[]) => R, thisArg: unknown, args: ArrayLike<unknown>) => R, target: (...a: unknown[]) => R, thisArg: unknown, args: ArrayLike<unknown>): R;
}

export class Tasks {
  private storage: Storage | undefined;
  private next = 0;
  private epoch = 0;
  private bumpQueued = false;
  private readonly bump = (): void => {
    this.epoch++;
    this.bumpQueued = false;
  };

  constructor(
    private readonly prefix: string,
    private readonly asyncHooks: BuiltinMap['async_hooks'],
  ) {}

  private als(): Storage {
    if (this.storage === undefined) this.storage = new this.asyncHooks.AsyncLocalStorage<Entry>() as unknown as Storage;
    return this.storage;
  }

  newTask(stack?: StackFrames): TaskCell {
    const cell: TaskCell = { id: `${this.prefix}:t${++this.next}` };
    const frame = stack?.find((f) => !f.file.startsWith('node:'));
    if (frame?.functionName !== undefined) cell.origin = { fn: frame.functionName, file: frame.file };
    return cell;
  }

  /** The task of a queue or pool item: the work it runs (and what that submits) is the item's, under the item's id. */
  itemTask(itemId: string): TaskCell {
    return { id: itemId };
  }

  /** The current flow's task, or undefined (never creates one). */
  peek(): TaskCell | undefined {
    const entry = this.storage?.getStore();
    return entry !== undefined && (entry.epoch === -1 || entry.epoch !== this.epoch) ? entry.cell : undefined;
  }

  /** The task the current flow entered last, even in the segment it entered it in (never creates one). */
  current(): TaskCell | undefined {
    return this.storage?.getStore()?.cell;
  }

  /** Runs `fn` with `cell` as the task of everything it starts. */
  run<R>(cell: TaskCell, fn: () => R): R {
    return this.apply(cell, fn, undefined, NO_ARGUMENTS);
  }

  /** Calls `fn` on `thisArg` with `args` as {@link run} would, without a closure for the call. */
  apply<R>(cell: TaskCell, fn: (...a: unknown[]) => R, thisArg: unknown, args: ArrayLike<unknown>): R {
    const als = this.als();
    // Already in a scope of this task (a lock taken inside a queue item's run, say): a new scope
    // would change nothing but cost a context frame.
    const entry = als.getStore();
    if (entry !== undefined && entry.epoch === -1 && entry.cell === cell) return Reflect.apply(fn, thisArg, args);
    return als.run({ cell, epoch: -1 }, Reflect.apply as (target: (...a: unknown[]) => R, thisArg: unknown, args: ArrayLike<unknown>) => R, fn, thisArg, args);
  }

  /** Which files are the program's (not a tracked library's or a compiler helper's): set by the tracker. */
  isProgramFile: (file: string) => boolean = () => true;

  /** Acquire style: the current flow's task; when it has none, a new one entered for the rest of the flow. */
  enter(stack?: StackFrames): TaskCell {
    return this.flowTask(stack) ?? this.enterNew(stack);
  }

  /** A new task, entered for the rest of the current flow. */
  enterNew(stack?: StackFrames): TaskCell {
    const made = this.newTask(stack);
    const functions = functionsOnStack(FLOW_FRAMES, this.isProgramFile);
    if (functions !== undefined && functions.length > 1) {
      made.entered = functions;
      if (functions.some((key, i) => i > 0 && !key.endsWith(MODULE_TOP))) made.passedOn = true;
    }
    this.als().enterWith({ cell: made, epoch: this.epoch });
    this.endSegmentSoon();
    return made;
  }

  /**
   * Whether the current flow is the one `cell` was entered in, as far as the stack tells — asked
   * when an entered task is about to wait for a lock it already holds (a self-deadlock, or two
   * flows that share the task: guard 3). The flow's own continuation runs its own functions; a
   * caller that resumed with the task (it awaited something else after starting the flow) runs one
   * of the functions that were below the flow's when the task was entered.
   */
  sameFlow(cell: TaskCell): boolean {
    const callers = cell.entered;
    if (callers === undefined) return true;
    const now = functionsOnStack(FLOW_FRAMES, this.isProgramFile);
    const outermost = now?.[now.length - 1];
    return outermost === undefined || callers.indexOf(outermost, 1) < 0;
  }

  /**
   * Callback style (the call then runs in {@link run}'s scope): the current flow's task; when it
   * has none, a new one that is not entered — the scope carries it, and nothing leaks into the
   * caller's own continuation (an entered task would: see guard 1).
   */
  forCall(stack?: StackFrames): TaskCell {
    return this.flowTask(stack) ?? this.newTask(stack);
  }

  /** The current flow's task by the guards above, or undefined when the flow has none of its own. */
  private flowTask(stack: StackFrames | undefined): TaskCell | undefined {
    const entry = this.als().getStore();
    if (entry === undefined) return undefined;
    if (entry.epoch === -1) return entry.cell;
    if (entry.epoch === this.epoch || (stack !== undefined && !onStack(entry.cell, stack))) return undefined;
    const cell = entry.cell;
    // Guard 3: a flow cannot go on while it waits, so a task that waits was passed on to another flow.
    if ((cell.waits ?? 0) > 0) return undefined;
    // Used in this segment: a flow started later in it with the same entry is a sibling (guard 1).
    // Only a task a caller may resume with needs it (a segment's end costs a microtask).
    if (cell.passedOn === true) {
      entry.epoch = this.epoch;
      this.endSegmentSoon();
    }
    return cell;
  }

  /**
   * Ends the current synchronous segment at the next microtask. A reaction to a settled promise is
   * the cheapest microtask there is (`queueMicrotask` makes an AsyncResource each time, four times the cost).
   */
  private endSegmentSoon(): void {
    if (this.bumpQueued) return;
    this.bumpQueued = true;
    void originalThen.call(SETTLED, this.bump);
  }
}

/** The arguments of a call that takes none (shared: nothing writes to it). */
export const NO_ARGUMENTS: readonly unknown[] = Object.freeze([]);

/** A promise that is already fulfilled (made with the agent, before the program could replace `Promise`). */
const SETTLED = Promise.resolve();

function onStack(cell: TaskCell, stack: StackFrames): boolean {
  const origin = cell.origin;
  if (origin === undefined) return true;
  for (const frame of stack) if (frame.functionName === origin.fn && frame.file === origin.file) return true;
  return false;
}
