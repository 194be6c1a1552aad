/**
 * Queues and pools: `resource-created` (kind queue or pool, with capacity), `pool-task` items
 * (queued → running → done | failed, `submittedBy` the task that submitted it) and `queue-stats`
 * (on change, at most every {@link STATS_EVERY_MS} per resource, the last change always sent by an
 * unref'd timer).
 *
 * - p-queue: `add` is patched; the item runs when p-queue calls the function (it runs in the
 *   item's own task), ends when its promise settles (p-queue itself handles that promise).
 * - fastq, async.queue: the worker function is wrapped (created through the patched factory);
 *   items are matched to starts in queue order (push appends, unshift prepends).
 * - piscina, tinypool: `run` is patched; the item is "running" as soon as a thread is idle
 *   (not observable in the pool: approximated by the running count below maxThreads), ends with the
 *   promise; the promise returned is a new one chained on the pool's, so a rejection the program
 *   does not handle is still reported as unhandled (one more tick to settle).
 * - p-limit: see below (ES imports on Node 24 only).
 * - workerpool: `pool()` is wrapped and the Pool prototype's `exec` patched on the first pool; its
 *   own promise class is observed with its `then` and returned unchanged.
 * Items are reported one by one for the first {@link DETAILED_ITEMS} of each queue; after that only
 * the counters are (a queue of millions of items must not flood the hub).
 */
import type { SourceSite, StackFrames } from '../../protocol/agentEvents';
import type { ResourceEvent } from '../../protocol/resourceEvents';
import type { LockTracker, Resource } from './tracker';
import { hasMethods, onSettled, originalThen, patchMethod } from './patch';

const DETAILED_ITEMS = 256;
const STATS_EVERY_MS = 100;

type Adopter = (exports: unknown, library: string, tracker: LockTracker) => boolean | { replace: unknown } | { replaceDefault: unknown };

class TrackedQueue {
  readonly resource: Resource;
  private nextItem = 0;
  private readonly waiting: Array<{ id: string; ts: number; detailed: boolean }> = [];
  running = 0;
  completed = 0;
  private lastStats = 0;
  private statsTimer: { unref(): unknown } | undefined;
  private lastSent = '';

  constructor(
    private readonly tracker: LockTracker,
    kind: 'queue' | 'pool',
    library: string,
    site: SourceSite | StackFrames | undefined,
    capacity: number | undefined,
    private readonly read: () => { concurrency: number; paused: boolean },
    private readonly timers: { setTimeout: (fn: () => void, ms: number) => { unref(): unknown } },
  ) {
    // A stack: the creating call (named by its line); a site: the first use (named by the receiver).
    this.resource = Array.isArray(site) ? tracker.createResource({ kind, library, creation: site, capacity }) : tracker.createResource({ kind, library, useSite: site as SourceSite | undefined, capacity });
    tracker.announce(this.resource);
  }

  private emit(event: ResourceEvent): void {
    this.tracker.emit(event);
  }

  /** An item was submitted; returns its id. `front`: it runs before the others (unshift). */
  queued(front = false): { id: string; ts: number; detailed: boolean } {
    const detailed = this.nextItem < DETAILED_ITEMS;
    const item = { id: `${this.resource.id}:i${++this.nextItem}`, ts: this.tracker.context.now(), detailed };
    if (front) this.waiting.unshift(item);
    else this.waiting.push(item);
    if (detailed) {
      const event: ResourceEvent = { type: 'pool-task', ts: item.ts, resourceId: this.resource.id, taskId: item.id, state: 'queued' };
      const by = this.tracker.tasks.peek();
      if (by !== undefined) event.submittedBy = by.id;
      const site = this.tracker.site();
      if (site) event.site = site;
      this.emit(event);
    }
    this.stats();
    return item;
  }

  /** The item (or, without one, the next waiting item) started. */
  started(item?: { id: string; detailed: boolean }): { id: string; detailed: boolean } | undefined {
    let started: { id: string; detailed: boolean } | undefined;
    if (item === undefined) {
      started = this.waiting.shift();
      if (started === undefined) return undefined;
    } else {
      const at = this.waiting.indexOf(item as { id: string; ts: number; detailed: boolean });
      if (at < 0) return item; // already running
      this.waiting.splice(at, 1);
      started = item;
    }
    this.running++;
    if (started.detailed) this.emit({ type: 'pool-task', ts: this.tracker.context.now(), resourceId: this.resource.id, taskId: started.id, state: 'running' });
    this.stats();
    return started;
  }

  finished(item: { id: string; detailed: boolean } | undefined, failed: boolean): void {
    const at = item === undefined ? -1 : this.waiting.indexOf(item as { id: string; ts: number; detailed: boolean });
    if (at >= 0) this.waiting.splice(at, 1);
    else this.running = Math.max(0, this.running - 1);
    this.completed++;
    if (item?.detailed) this.emit({ type: 'pool-task', ts: this.tracker.context.now(), resourceId: this.resource.id, taskId: item.id, state: failed ? 'failed' : 'done' });
    this.stats();
  }

  /** Items that will never run (cleared). */
  dropWaiting(): void {
    this.waiting.length = 0;
    this.stats();
  }

  stats(): void {
    const now = this.tracker.context.now();
    if (now - this.lastStats < STATS_EVERY_MS) {
      if (this.statsTimer === undefined) {
        try {
          this.statsTimer = this.timers.setTimeout(() => {
            this.statsTimer = undefined;
            this.sendStats();
          }, STATS_EVERY_MS);
          this.statsTimer.unref();
        } catch {
          this.statsTimer = undefined;
        }
      }
      return;
    }
    this.sendStats();
  }

  private sendStats(): void {
    try {
      const now = this.tracker.context.now();
      this.lastStats = now;
      const { concurrency, paused } = this.read();
      const oldest = this.waiting[0];
      const event: ResourceEvent = { type: 'queue-stats', ts: now, resourceId: this.resource.id, size: this.waiting.length, running: this.running, concurrency, paused, completed: this.completed, oldestWaitMs: oldest ? Math.round(now - oldest.ts) : 0 };
      const key = `${event.size}:${event.running}:${concurrency}:${paused}:${event.completed}`;
      if (key === this.lastSent) return;
      this.lastSent = key;
      this.emit(event);
    } catch {
      // never into the program
    }
  }
}

export function queueAdopters(tracker: LockTracker, timers: { setTimeout: (fn: () => void, ms: number) => { unref(): unknown } }): Array<[string, Adopter]> {
  const patched = new WeakSet<object>();
  const number = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

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
      function add(this: object, ...args) {
        const fn = args[0];
        if (typeof fn !== 'function') return original.apply(this, args as [unknown]);
        let wrapped: unknown = fn;
        try {
          const tracked = queueOf(this);
          const item = tracked.queued();
          const cell = tracker.tasks.newTask();
          cell.id = item.id;
          wrapped = function (this: unknown, ...inner: unknown[]) {
            const running = tracked.started(item);
            let result: unknown;
            try {
              result = tracker.tasks.run(cell, () => (fn as (...a: unknown[]) => unknown).apply(this, inner));
            } catch (error) {
              tracked.finished(running, true);
              throw error;
            }
            // p-queue awaits the result itself: the reaction adds nothing observable.
            if (result instanceof Promise) onSettled(result, () => tracked.finished(running, false), () => tracked.finished(running, true));
            else tracked.finished(running, false);
            return result;
          };
        } catch {
          wrapped = fn;
        }
        const copy = args.slice() as [unknown, unknown?];
        copy[0] = wrapped;
        return original.apply(this, copy);
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

  /** piscina and tinypool: `run(task, options)` on the class prototype. */
  const threadPool =
    (pick: (exports: unknown) => unknown): Adopter =>
    (exports, library) => {
      const Pool = pick(exports) as unknown as ({ prototype: object } & (() => void)) | undefined;
      if (typeof Pool !== 'function') return false;
      const proto = Pool.prototype;
      if (patched.has(proto)) return true;
      if (!hasMethods(proto, ['run', 'destroy'])) return false;
      patched.add(proto);
      const pools = new WeakMap<object, TrackedQueue>();
      patchMethod<(this: object, ...args: unknown[]) => Promise<unknown>>(proto, 'run', (original) =>
        function run(this: object, ...args) {
          let tracked: TrackedQueue | undefined;
          let item: { id: string; ts: number; detailed: boolean } | undefined;
          try {
            tracked = pools.get(this);
            if (tracked === undefined) {
              const pool = this as { options?: { maxThreads?: unknown }; maxThreads?: unknown };
              const max = number(pool.options?.maxThreads ?? pool.maxThreads, 1);
              tracked = new TrackedQueue(tracker, 'pool', library, tracker.site(), max, () => ({ concurrency: max, paused: false }), timers);
              pools.set(this, tracked);
            }
            item = tracked.queued();
            if (tracked.running < number(tracked.resource.capacity, 1)) tracked.started(item);
          } catch {
            tracked = undefined;
          }
          const result = original.apply(this, args);
          if (tracked === undefined || !(result instanceof Promise)) return result;
          const q = tracked;
          const it = item;
          const end = (failed: boolean): void => {
            try {
              q.finished(it, failed);
              // The next waiting item takes the freed thread.
              if (q.running < number(q.resource.capacity, 1)) q.started();
            } catch {
              // never into the program
            }
          };
          return originalThen.call(
            result,
            (value: unknown) => {
              end(false);
              return value;
            },
            (error: unknown) => {
              end(true);
              throw error;
            },
          ) as Promise<unknown>;
        },
      );
      return true;
    };

  const workerpool: Adopter = (exports, library) => {
    const lib = exports as Record<string, unknown>;
    if (typeof lib?.pool !== 'function') return false;
    if (patched.has(lib)) return true;
    const descriptor = Object.getOwnPropertyDescriptor(lib, 'pool');
    if (descriptor === undefined || !descriptor.writable) return false;
    patched.add(lib);
    const originalPool = lib.pool as (...a: unknown[]) => object;
    const pools = new WeakMap<object, TrackedQueue>();
    let inExec = false;
    lib.pool = function pool(this: unknown, ...args: unknown[]) {
      const created = originalPool.apply(this, args);
      try {
        const proto = Object.getPrototypeOf(created) as object;
        const p = created as { maxWorkers?: unknown };
        const max = number(p.maxWorkers, 1);
        pools.set(created, new TrackedQueue(tracker, 'pool', library, tracker.stack(), max, () => ({ concurrency: max, paused: false }), timers));
        if (!patched.has(proto) && hasMethods(proto, ['exec', 'terminate'])) {
          patched.add(proto);
          patchMethod<(this: object, ...a: unknown[]) => unknown>(proto, 'exec', (original) =>
            function exec(this: object, ...a) {
              // exec(fn, args) calls exec('run', …) itself: only the outer call is an item.
              if (inExec) return original.apply(this, a);
              const tracked = pools.get(this);
              let item: { id: string; ts: number; detailed: boolean } | undefined;
              try {
                item = tracked?.queued();
                if (tracked !== undefined && tracked.running < number(tracked.resource.capacity, 1)) tracked.started(item);
              } catch {
                item = undefined;
              }
              let result: unknown;
              inExec = true;
              try {
                result = original.apply(this, a);
              } finally {
                inExec = false;
              }
              try {
                const then = (result as { then?: unknown })?.then;
                if (tracked !== undefined && typeof then === 'function') {
                  // workerpool's own Promise class: it does not report unhandled rejections, so observing is free.
                  const end = (failed: boolean): void => {
                    tracked.finished(item, failed);
                    if (tracked.running < number(tracked.resource.capacity, 1)) tracked.started();
                  };
                  (then as (ok: unknown, fail: unknown) => unknown).call(result, () => end(false), () => end(true));
                }
              } catch {
                // never into the program
              }
              return result;
            },
          );
        }
      } catch {
        // untracked
      }
      return created;
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
          let item: { id: string; ts: number; detailed: boolean } | undefined;
          try {
            item = q.queued();
          } catch {
            item = undefined;
          }
          const cell = tracker.tasks.newTask();
          if (item !== undefined) cell.id = item.id;
          const runItem = function (this: unknown, ...inner: unknown[]) {
            const running = q.started(item);
            let result: unknown;
            try {
              result = tracker.tasks.run(cell, () => (fn as (...a: unknown[]) => unknown).apply(this, inner));
            } catch (error) {
              q.finished(running, true);
              throw error;
            }
            // p-limit awaits the result in its own async wrapper (and catches it there).
            if (result instanceof Promise) onSettled(result, () => q.finished(running, false), () => q.finished(running, true));
            else q.finished(running, false);
            return result;
          };
          return limit.call(this, runItem, ...rest);
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
    ['piscina', threadPool((e) => (e as { Piscina?: unknown })?.Piscina ?? e)],
    ['tinypool', threadPool((e) => (e as { Tinypool?: unknown })?.Tinypool ?? (e as { default?: unknown })?.default)],
    ['workerpool', workerpool],
  ];
}
