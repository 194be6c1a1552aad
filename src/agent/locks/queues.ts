/**
 * In-process queues: p-queue, fastq, async.queue, p-limit (see trackedQueue.ts for what is sent).
 *
 * - p-queue: `add` is patched; the item runs when p-queue calls the function (it runs in the
 *   item's own task), ends when its promise settles (p-queue itself handles that promise).
 * - fastq, async.queue: the worker function is wrapped (created through the patched factory);
 *   items are matched to starts in queue order (push appends, unshift prepends).
 * - p-limit: see below (ES imports on Node 24 only).
 */
import type { LockTracker } from './tracker';
import type { AgentTimers, QueueAdopter } from './trackedQueue';
import { TrackedQueue, finiteNumber } from './trackedQueue';
import { hasMethods, onSettled, patchMethod } from './patch';
import type { QueueItem } from './waitingItems';
import type { TaskCell } from './tasks';

type Adopter = QueueAdopter;

export function queueAdopters(tracker: LockTracker, timers: AgentTimers): Array<[string, Adopter]> {
  const patched = new WeakSet<object>();
  const number = finiteNumber;

  /**
   * The function a p-queue or p-limit item runs instead of the program's: it runs in the item's own
   * task (`cell`), and the item ends when its promise settles. Both libraries await the result in
   * their own code (p-limit in its async wrapper, which catches it): the reaction adds nothing observable.
   */
  const itemRunner = (tracked: TrackedQueue, item: QueueItem | undefined, cell: TaskCell, fn: (...a: unknown[]) => unknown): ((...a: unknown[]) => unknown) =>
    function (this: unknown, ...args: unknown[]) {
      const running = tracked.started(item);
      let result: unknown;
      try {
        result = tracker.tasks.apply(cell, fn, this, args);
      } catch (error) {
        tracked.finished(running, true);
        throw error;
      }
      if (result instanceof Promise) onSettled(result, () => tracked.finished(running, false), () => tracked.finished(running, true));
      else tracked.finished(running, false);
      return result;
    };

  const pQueue: Adopter = (exports, library) => {
    const PQueue = (exports as { default?: unknown })?.default as unknown as ({ prototype: object } & (() => void)) | undefined;
    if (typeof PQueue !== 'function') return false;
    const proto = PQueue.prototype;
    if (patched.has(proto)) return true;
    if (!hasMethods(proto, ['add', 'start', 'pause', 'clear', 'onIdle'])) return false;
    patched.add(proto);
    const queues = new WeakMap<object, TrackedQueue>();
    const queueOf = (queue: object): TrackedQueue => {
      let tracked = queues.get(queue);
      if (tracked === undefined) {
        const q = queue as { concurrency?: unknown; isPaused?: unknown };
        tracked = new TrackedQueue(tracker, 'queue', library, tracker.site(), number(q.concurrency, Infinity), () => ({ concurrency: number(q.concurrency, 0), paused: q.isPaused === true }), timers);
        queues.set(queue, tracked);
      }
      return tracked;
    };
    patchMethod<(this: object, fn: unknown, options?: unknown) => Promise<unknown>>(proto, 'add', (original) =>
      function add(this: object, fn: unknown, options?: unknown) {
        // p-queue's add takes (fn, options = {}): an absent options is passed on as undefined, the same call.
        if (typeof fn !== 'function') return original.call(this, fn, options);
        let wrapped: unknown = fn;
        try {
          const tracked = queueOf(this);
          const item = tracked.queued();
          wrapped = itemRunner(tracked, item, tracker.tasks.itemTask(item.id), fn as (...a: unknown[]) => unknown);
        } catch {
          wrapped = fn;
        }
        return original.call(this, wrapped, options);
      },
    );
    patchMethod<(this: object) => void>(proto, 'clear', (original) =>
      function clear(this: object) {
        try {
          queues.get(this)?.dropWaiting();
        } catch {
          // never into the program
        }
        return original.call(this);
      },
    );
    return true;
  };

  /** A callback/async worker wrapped to report starts and ends in queue order. */
  const wrapWorker = (tracked: () => TrackedQueue | undefined, worker: (...a: unknown[]) => unknown, promiseWorker: boolean): ((...a: unknown[]) => unknown) => {
    const isAsync = (worker as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'AsyncFunction';
    if (isAsync) {
      return async function (this: unknown, ...args: unknown[]) {
        const q = tracked();
        const item = q?.started();
        try {
          const result = await worker.apply(this, args);
          q?.finished(item, false);
          return result;
        } catch (error) {
          q?.finished(item, true);
          throw error;
        }
      };
    }
    if (promiseWorker) {
      return function (this: unknown, ...args: unknown[]) {
        const q = tracked();
        const item = q?.started();
        let result: unknown;
        try {
          result = worker.apply(this, args);
        } catch (error) {
          q?.finished(item, true);
          throw error;
        }
        // fastq.promise chains on it with both handlers.
        if (result instanceof Promise) onSettled(result, () => q?.finished(item, false), () => q?.finished(item, true));
        else q?.finished(item, false);
        return result;
      };
    }
    return function (this: unknown, ...args: unknown[]) {
      const q = tracked();
      const item = q?.started();
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        let called = false;
        args[last] = function (this: unknown, ...result: unknown[]) {
          if (!called) {
            called = true;
            q?.finished(item, result[0] !== null && result[0] !== undefined);
          }
          return (callback as (...a: unknown[]) => unknown).apply(this, result);
        };
      }
      return worker.apply(this, args);
    };
  };

  /** Patches push/unshift of a queue object to report submissions. */
  const watchSubmissions = (queue: Record<string, unknown>, tracked: TrackedQueue): void => {
    for (const key of ['push', 'unshift']) {
      const original = queue[key];
      if (typeof original !== 'function') continue;
      queue[key] = function (this: unknown, ...args: unknown[]) {
        try {
          tracked.queued(key === 'unshift');
        } catch {
          // never into the program
        }
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      };
    }
  };

  const fastq: Adopter = (exports, library) => {
    if (typeof exports !== 'function' || typeof (exports as { promise?: unknown }).promise !== 'function') return false;
    const original = exports as ((...a: unknown[]) => Record<string, unknown>) & { promise: (...a: unknown[]) => Record<string, unknown> };
    const make = (factory: (...a: unknown[]) => Record<string, unknown>, promiseWorker: boolean) =>
      function (this: unknown, ...args: unknown[]) {
        // fastq(worker, concurrency) or fastq(context, worker, concurrency)
        const workerAt = typeof args[0] === 'function' ? 0 : 1;
        const worker = args[workerAt];
        let tracked: TrackedQueue | undefined;
        if (typeof worker === 'function') {
          const copy = args.slice();
          copy[workerAt] = wrapWorker(() => tracked, worker as (...a: unknown[]) => unknown, promiseWorker);
          args = copy;
        }
        const queue = factory.apply(this, args);
        try {
          if (typeof worker === 'function' && typeof queue === 'object' && queue !== null) {
            const q = queue as { concurrency?: unknown; paused?: unknown };
            tracked = new TrackedQueue(tracker, 'queue', library, tracker.stack(), number(q.concurrency, 1), () => ({ concurrency: number(q.concurrency, 0), paused: q.paused === true }), timers);
            watchSubmissions(queue, tracked);
          }
        } catch {
          // untracked queue
        }
        return queue;
      };
    const replacement = make(original, false) as unknown as Record<string, unknown>;
    for (const key of Object.keys(original)) replacement[key] = (original as unknown as Record<string, unknown>)[key];
    replacement.promise = make(original.promise, true);
    return { replace: replacement };
  };

  const asyncLib: Adopter = (exports, library) => {
    const lib = exports as Record<string, unknown>;
    if (typeof lib?.queue !== 'function' || patched.has(lib)) return typeof lib?.queue === 'function';
    const descriptor = Object.getOwnPropertyDescriptor(lib, 'queue');
    if (descriptor === undefined || !descriptor.writable) return false;
    patched.add(lib);
    const original = lib.queue as (...a: unknown[]) => Record<string, unknown>;
    lib.queue = function queue(this: unknown, worker: unknown, concurrency?: unknown) {
      let tracked: TrackedQueue | undefined;
      const wrapped = typeof worker === 'function' ? wrapWorker(() => tracked, worker as (...a: unknown[]) => unknown, false) : worker;
      const q = original.call(this, wrapped, concurrency);
      try {
        const obj = q as { concurrency?: unknown; paused?: unknown };
        tracked = new TrackedQueue(tracker, 'queue', library, tracker.stack(), number(obj.concurrency, 1), () => ({ concurrency: number(obj.concurrency, 0), paused: obj.paused === true }), timers);
        watchSubmissions(q, tracked);
      } catch {
        // untracked
      }
      return q;
    };
    return true;
  };

  /**
   * p-limit (ES only; ES imports on Node with in-thread hooks): the default export is replaced by a
   * pLimit that wraps each limit function (same properties, through their descriptors; `map` calls
   * `this`, the wrapper). `require()` of it (require(esm)) is left untracked: its namespace is frozen.
   */
  const pLimit: Adopter = (exports, library) => {
    const original = (exports as { default?: unknown })?.default;
    if (typeof original !== 'function' || (exports as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] !== 'Module') return false;
    const wrapped = function pLimit(this: unknown, ...args: unknown[]) {
      const limit = (original as (...a: unknown[]) => (...a: unknown[]) => unknown).apply(this, args);
      let tracked: TrackedQueue | undefined;
      try {
        if (typeof limit !== 'function') return limit;
        const concurrencyOf = (): number => number((limit as { concurrency?: unknown }).concurrency, 0);
        tracked = new TrackedQueue(tracker, 'queue', library, tracker.stack(), concurrencyOf(), () => ({ concurrency: concurrencyOf(), paused: false }), timers);
        const q = tracked;
        const limited = function (this: unknown, fn: unknown, ...rest: unknown[]) {
          if (typeof fn !== 'function') return limit.call(this, fn, ...rest);
          let item: QueueItem | undefined;
          try {
            item = q.queued();
          } catch {
            item = undefined;
          }
          const cell = item !== undefined ? tracker.tasks.itemTask(item.id) : tracker.tasks.newTask();
          return limit.call(this, itemRunner(q, item, cell, fn as (...a: unknown[]) => unknown), ...rest);
        };
        Object.defineProperties(limited, Object.getOwnPropertyDescriptors(limit));
        return limited;
      } catch {
        return limit;
      }
    };
    return { replaceDefault: wrapped };
  };

  return [
    ['p-limit', pLimit],
    ['p-queue', pQueue],
    ['fastq', fastq],
    ['async', asyncLib],
  ];
}
