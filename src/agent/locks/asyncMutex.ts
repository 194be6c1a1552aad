/**
 * async-mutex (0.4, 0.5): Mutex and Semaphore. Everything goes through Semaphore (a Mutex is a
 * Semaphore of 1 in `_semaphore`), so the Semaphore prototype is patched where the program calls
 * it: `acquire` (a grant at once, seen by `_value` going down in the call, or a wait: the queued
 * item's `resolve` is then its grant), `release` (every release: the ticket calls it too; for a
 * semaphore, the releasing task's own permit ends, else the oldest), `cancel`; `runExclusive` runs
 * in the caller's task. Construction is seen through the constructor's own assignments
 * (`this._value =`, `this._semaphore =`).
 * No promise, value or timing changes: the wrappers only look.
 *
 * The wrappers are anonymous and take the parameters of the CommonJS build's methods (anonymous
 * functions assigned to the prototype), so patchMethod has no `name` or `length` to redefine:
 * calls through a function whose `name` was redefined are slower (1,000,000 uncontended pairs on
 * Node 24: 1.22× of the bare time with `name` redefined, 1.14× without, 21 alternating pairs).
 */
import type { StackFrames } from '../../protocol/agentEvents';
import type { TaskCell } from './tasks';
import type { Holding, LockTracker, Resource, Waiter } from './tracker';
import { hasMethods, LastLookupMap, observeConstruction, onSettled, patchMethod } from './patch';

interface Item {
  resolve: unknown;
  weight: number;
}
interface Sem {
  _queue: Item[];
}
/** Made with every field set: one shape keeps the code that reads it monomorphic. */
interface AcquireInfo {
  resource: Resource;
  task: TaskCell;
  waiter: Waiter | undefined;
  permits: number | undefined;
  site: Holding['site'];
  /** A watched queued item's own resolve, and whether the library called it (its grant). */
  resolve: ((value: unknown) => unknown) | undefined;
  granted: boolean;
}

const ACQUIRE = Symbol('gridlock.acquire');
interface WatchedItem extends Item {
  [ACQUIRE]: AcquireInfo;
}

/** The shape of the versions known (0.4, 0.5); `_dispatchItem` and `_newReleaser` are checked, not wrapped. */
const SEMAPHORE_METHODS = ['acquire', 'runExclusive', 'release', 'cancel', '_dispatchItem', '_newReleaser', '_couldLockImmediately'];
const MUTEX_METHODS = ['acquire', 'runExclusive', 'release', 'cancel'];
const patched = new WeakSet<object>();
/** The timeout of the withTimeout()/tryAcquire() decorator whose call is in progress (CommonJS build only). */
let decoratorTimeout: number | undefined;

/**
 * lib/withTimeout.js of the CommonJS build (index.js reads it through a live getter): the
 * decorators it makes mark the waits of their acquire/runExclusive calls with their timeout.
 */
function adoptWithTimeout(exports: Record<string, unknown>): boolean {
  const original = exports.withTimeout as ((...args: unknown[]) => Record<string, unknown>) | undefined;
  const descriptor = Object.getOwnPropertyDescriptor(exports, 'withTimeout');
  if (typeof original !== 'function' || descriptor === undefined || !descriptor.writable || patched.has(exports)) return patched.has(exports);
  patched.add(exports);
  exports.withTimeout = function withTimeout(this: unknown, ...args: unknown[]) {
    const decorator = original.apply(this, args);
    try {
      const timeout = args[1];
      if (typeof timeout === 'number' && typeof decorator === 'object' && decorator !== null) {
        for (const key of ['acquire', 'runExclusive']) {
          const method = decorator[key];
          if (typeof method !== 'function') continue;
          decorator[key] = function (this: unknown, ...inner: unknown[]) {
            const saved = decoratorTimeout;
            decoratorTimeout = timeout;
            try {
              return (method as (...a: unknown[]) => unknown).apply(this, inner);
            } finally {
              decoratorTimeout = saved;
            }
          };
        }
      }
    } catch {
      // never into the program
    }
    return decorator;
  };
  return true;
}

/** Patches an async-mutex exports object; returns false when its shape is not the one known. */
export function adoptAsyncMutex(exports: Record<string, unknown>, library: string, tracker: LockTracker): boolean {
  if (exports !== null && typeof exports === 'object' && exports.Mutex === undefined && typeof exports.withTimeout === 'function') return adoptWithTimeout(exports);
  const Semaphore = exports.Semaphore as unknown as ({ prototype: object } & (() => void)) | undefined;
  const Mutex = exports.Mutex as unknown as ({ prototype: object } & (() => void)) | undefined;
  if (typeof Semaphore !== 'function' || typeof Mutex !== 'function') return false;
  const sp = Semaphore.prototype;
  const mp = Mutex.prototype;
  if (patched.has(sp)) return true;
  if (!hasMethods(sp, SEMAPHORE_METHODS) || !hasMethods(mp, MUTEX_METHODS)) return false;
  if ('_value' in sp || '_semaphore' in mp) return false;
  if (!/this\._semaphore\s*=/.test(Function.prototype.toString.call(Mutex)) || !/this\._value\s*=/.test(Function.prototype.toString.call(Semaphore))) return false;
  patched.add(sp);

  const { tasks } = tracker;
  const resources = new LastLookupMap<object, Resource>();
  const creations = new WeakMap<object, StackFrames>();

  const resourceOf = (sem: object): Resource | undefined => {
    let resource = resources.get(sem);
    if (resource === undefined) {
      const value = (sem as { _value?: unknown })._value;
      resource = tracker.createResource({ kind: 'semaphore', library, creation: creations.get(sem), useSite: creations.has(sem) ? undefined : tracker.site(), capacity: typeof value === 'number' ? value : undefined });
      creations.delete(sem);
      resources.set(sem, resource);
    }
    return resource;
  };

  observeConstruction(sp, '_value', (sem) => creations.set(sem, tracker.stack()));
  observeConstruction(mp, '_semaphore', (mutex, sem) => {
    if (typeof sem !== 'object' || sem === null) return;
    const resource = tracker.createResource({ kind: 'mutex', library, creation: creations.get(sem) ?? tracker.stack(), capacity: 1, reentrant: false });
    creations.delete(sem);
    resources.set(sem, resource);
    resources.set(mutex, resource);
    tracker.announce(resource);
  });

  const couldLock = (sp as Record<string, (this: object, weight: number, priority: number) => boolean>)._couldLockImmediately;
  /** Whether asking `sem` for `permits` (the library's defaults applied) has to wait, as the library decides it. */
  const mustWait = (sem: object, permits: unknown, priority: number | undefined): boolean =>
    typeof permits === 'number' && permits > 0 && !couldLock.call(sem, permits, priority === undefined ? 0 : priority);

  /** Records a grant made by the library (at once or from its queue) and returns its holding, or undefined on the quick path. */
  const granted = (info: AcquireInfo): Holding | undefined => {
    const { resource, task } = info;
    if (info.waiter === undefined && resource.kind === 'mutex' && info.site === undefined && tracker.quiet(resource)) {
      tracker.quickHold(resource, task);
      return undefined;
    }
    return tracker.acquired(resource, task, info.waiter, info.site, info.permits);
  };

  /**
   * The `resolve` of a watched queued item: the library calls it as `item.resolve(…)` when it
   * grants the item (from any release, setValue or cancel path), so one function serves them all.
   * The item (the library's own, never the program's) carries its acquire under a symbol: a
   * WeakMap of every queued item cost more than all the rest of a contended acquire.
   */
  const resolveWatched = function (this: WatchedItem, value: unknown): unknown {
    const info = this[ACQUIRE];
    try {
      if (!info.granted) {
        info.granted = true;
        granted(info);
      }
    } catch {
      // never into the program
    }
    return (info.resolve as (value: unknown) => unknown)(value);
  };

  /** Watches a queued item: its grant is recorded when the library resolves it. */
  const watchItem = (item: Item, info: AcquireInfo): void => {
    if (typeof item.resolve !== 'function') return;
    info.resolve = item.resolve as (value: unknown) => unknown;
    (item as WatchedItem)[ACQUIRE] = info;
    item.resolve = resolveWatched;
  };

  /** The acquire of a queued item, when it is watched. */
  const watched = (item: Item): AcquireInfo | undefined => (item.resolve === resolveWatched ? (item as WatchedItem)[ACQUIRE] : undefined);

  patchMethod<(this: object, weight?: number, priority?: number) => Promise<unknown>>(sp, 'acquire', (original) =>
    function (this: object, weight?: number, priority?: number) {
      // Both parameters are defaulted with `=== void 0` in the library: passing them on as given is
      // the same call. The library dispatches at once, inside this call, or queues an item whose
      // resolve is its grant: the wrapper looks before and after and wraps nothing else (each
      // wrapper on the way of an uncontended pair costs more than all the bookkeeping).
      let quick: Resource | undefined;
      let task: TaskCell | undefined;
      let info: AcquireInfo | undefined;
      let valueBefore = 0;
      try {
        const sem = this as Sem & { _value: number };
        valueBefore = sem._value;
        const resource = resources.get(this);
        if (resource !== undefined && (weight === undefined || weight === 1) && resource.kind === 'mutex' && tracker.quiet(resource) && sem._queue.length === 0 && sem._value >= 1) {
          // The quick path (a mutex past its detailed budget, free, nobody queued or waiting): the
          // task, entered before the call so that the promises it makes belong to it; nothing allocated.
          task = tasks.enter();
          quick = resource;
        } else {
          info = plan(this, resource ?? resourceOf(this), weight, priority);
        }
      } catch {
        quick = undefined;
        info = undefined;
      }
      const result = original.call(this, weight, priority);
      if (quick !== undefined) {
        // The library's own test is the one made above: it dispatched at once.
        try {
          if ((this as { _value: number })._value < valueBefore) tracker.quickHold(quick, task as TaskCell);
        } catch {
          // never into the program
        }
      } else if (info !== undefined) {
        try {
          if (info.waiter === undefined) {
            if ((this as { _value: number })._value < valueBefore) granted(info);
          } else if (!info.waiter.done) {
            // Queued: the item the library just inserted is the only one not known yet.
            const queue = (this as Sem)._queue;
            for (let i = queue.length - 1; i >= 0; i--) {
              if (queue[i].resolve !== resolveWatched) {
                watchItem(queue[i], info);
                break;
              }
            }
          }
        } catch {
          // not tracked
        }
      }
      return result;
    },
  );

  /** What an acquire that is not on the quick path records: its task, its site while detailed, and its wait when it must wait. */
  function plan(sem: object, resource: Resource | undefined, weight?: number, priority?: number): AcquireInfo | undefined {
    if (resource === undefined) return undefined;
    const permitsAsked = weight === undefined ? 1 : weight;
    const wait = mustWait(sem, permitsAsked, priority);
    const stack = tracker.wantsStack(resource, wait) ? tracker.stack() : undefined;
    const task = tasks.enter(stack);
    const info: AcquireInfo = { resource, task, waiter: undefined, permits: resource.kind === 'semaphore' ? permitsAsked : undefined, site: undefined, resolve: undefined, granted: false };
    if (wait) {
      info.waiter = tracker.wait(resource, task, { permits: info.permits, stack, timeoutMs: decoratorTimeout });
    } else if (stack !== undefined) {
      info.site = tracker.site(stack);
      if (info.site) task.site = info.site;
    }
    return info;
  }

  // waitForUnlock (0.4+): a wait for the lock to be free that does not take it. It is a wait like
  // acquire's for deadlocks (a task holding A that waits for B to be free, while B's holder waits
  // for A), and it ends without a grant.
  if (typeof (sp as Record<string, unknown>).waitForUnlock === 'function') {
    patchMethod<(this: object, weight?: number, priority?: number) => Promise<unknown>>(sp, 'waitForUnlock', (original) =>
      function (this: object, weight?: number, priority?: number) {
        let unlockWait: { resource: Resource; task: TaskCell; permits?: number; stack?: StackFrames } | undefined;
        try {
          const resource = resourceOf(this);
          const permitsAsked = weight === undefined ? 1 : weight;
          if (resource !== undefined && mustWait(this, permitsAsked, priority)) {
            const stack = tracker.wantsStack(resource, true) ? tracker.stack() : undefined;
            unlockWait = { resource, task: tasks.enter(stack), stack };
            if (resource.kind === 'semaphore') unlockWait.permits = permitsAsked;
          }
        } catch {
          unlockWait = undefined;
        }
        const result = original.call(this, weight, priority);
        if (unlockWait !== undefined) {
          try {
            const waiter = tracker.wait(unlockWait.resource, unlockWait.task, { permits: unlockWait.permits, stack: unlockWait.stack });
            onSettled(
              result,
              () => tracker.waitEnded(waiter, 'unlocked'),
              () => tracker.waitEnded(waiter, 'error'),
            );
          } catch {
            // not tracked
          }
        }
        return result;
      },
    );
  }

  patchMethod<(this: object, weight?: number) => void>(sp, 'release', (original) =>
    function (this: object, weight?: number) {
      try {
        const resource = resources.get(this);
        if (resource !== undefined && resource.quick !== undefined) {
          tracker.quickReleased(resource);
        } else if (resource !== undefined && resource.holdings.length > 0) {
          if (resource.kind === 'mutex') {
            // One holder; the releasing task is only looked up when the release is reported.
            const holding = resource.holdings[0];
            tracker.released(holding, holding.emitted ? tasks.peek() : undefined);
          } else {
            const task = tasks.peek();
            const holding = tracker.pickHolding(resource, task);
            if (holding !== undefined) tracker.released(holding, task);
          }
        }
      } catch {
        // never into the program
      }
      return original.call(this, weight);
    },
  );

  patchMethod<(this: object) => void>(sp, 'cancel', (original) =>
    function (this: object) {
      try {
        for (const item of (this as Sem)._queue) {
          const info = watched(item);
          if (info?.waiter !== undefined) tracker.waitEnded(info.waiter, 'cancelled');
        }
      } catch {
        // never into the program
      }
      return original.call(this);
    },
  );

  patchMethod<(this: object, callback: unknown, ...rest: unknown[]) => Promise<unknown>>(sp, 'runExclusive', (original) =>
    function (this: object, callback: unknown, ...rest: unknown[]) {
      // One named parameter, as the library's: the same length without redefining it. A call
      // without arguments passes an undefined callback on, which the library treats alike.
      const args: [unknown, ...unknown[]] = [callback, ...rest];
      let cell: TaskCell | undefined;
      try {
        const resource = resourceOf(this);
        cell = tasks.forCall(resource !== undefined && tracker.detailed(resource) ? tracker.stack() : undefined);
      } catch {
        cell = undefined;
      }
      if (cell === undefined) return original.apply(this, args);
      return tasks.apply(cell, original as (...a: unknown[]) => Promise<unknown>, this, args);
    },
  );
  return true;
}
