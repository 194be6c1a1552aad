/**
 * Worker-thread pools: piscina, tinypool, workerpool (see trackedQueue.ts for what is sent).
 *
 * - piscina, tinypool: `run` is patched (and a port sent with an item links its handlers to the
 *   item, channelTasks.ts); the item is "running" as soon as a thread is idle
 *   (not observable in the pool: approximated by the running count below maxThreads), ends with the
 *   promise; the promise returned is a new one chained on the pool's, so a rejection the program
 *   does not handle is still reported as unhandled (one more tick to settle).
 * - workerpool: `pool()` is wrapped and the Pool prototype's `exec` patched on the first pool; its
 *   own promise class is observed with its `then` and returned unchanged. An item's `on` handler
 *   (its worker's `workerEmit` events) runs as the item, so a subtask it submits names the item.
 */
import type { LockTracker } from './tracker';
import type { AgentTimers, QueueAdopter } from './trackedQueue';
import { TrackedQueue, finiteNumber } from './trackedQueue';
import { hasMethods, originalThen, patchMethod } from './patch';
import type { ChannelTasks } from './channelTasks';
import type { QueueItem } from './waitingItems';

type Adopter = QueueAdopter;

/** Thread ids of a pool's workers (`Worker` objects reached through `toWorker`), or undefined when the pool does not show them (process workers have none). */
function threadIds(list: unknown, toWorker: (entry: unknown) => unknown): number[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const ids: number[] = [];
  for (const entry of list.slice(0, 64)) {
    const id = (toWorker(entry) as { threadId?: unknown } | undefined)?.threadId;
    if (typeof id === 'number' && Number.isInteger(id) && id > 0) ids.push(id);
  }
  return ids.length > 0 ? ids.sort((a, b) => a - b) : undefined;
}

export function poolAdopters(tracker: LockTracker, timers: AgentTimers, channels: ChannelTasks): Array<[string, Adopter]> {
  const patched = new WeakSet<object>();
  const number = finiteNumber;


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
      channels.activate();
      const pools = new WeakMap<object, TrackedQueue>();
      patchMethod<(this: object, ...args: unknown[]) => Promise<unknown>>(proto, 'run', (original) =>
        function run(this: object, ...args) {
          let tracked: TrackedQueue | undefined;
          let item: QueueItem | undefined;
          try {
            tracked = pools.get(this);
            if (tracked === undefined) {
              const pool = this as { options?: { maxThreads?: unknown }; maxThreads?: unknown; threads?: unknown };
              const max = number(pool.options?.maxThreads ?? pool.maxThreads, 1);
              tracked = new TrackedQueue(tracker, 'pool', library, tracker.site(), max, () => ({ concurrency: max, paused: false, workers: threadIds(pool.threads, (w) => w) }), timers);
              pools.set(this, tracked);
            }
            item = tracked.queued();
            channels.bindItem(args[0], args[1], item.id);
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
        const handlers = created as { workers?: unknown };
        const workers = () => threadIds(handlers.workers, (h) => (h as { worker?: unknown } | undefined)?.worker);
        pools.set(created, new TrackedQueue(tracker, 'pool', library, tracker.stack(), max, () => ({ concurrency: max, paused: false, workers: workers() }), timers));
        if (!patched.has(proto) && hasMethods(proto, ['exec', 'terminate'])) {
          patched.add(proto);
          patchMethod<(this: object, ...a: unknown[]) => unknown>(proto, 'exec', (original) =>
            function exec(this: object, ...a) {
              // exec(fn, args) calls exec('run', …) itself: only the outer call is an item.
              if (inExec) return original.apply(this, a);
              const tracked = pools.get(this);
              let item: QueueItem | undefined;
              try {
                item = tracked?.queued();
                if (tracked !== undefined && tracked.running < number(tracked.resource.capacity, 1)) tracked.started(item);
              } catch {
                item = undefined;
              }
              let result: unknown;
              inExec = true;
              try {
                if (item !== undefined) a = withItemEvents(a, item.id);
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
   * `exec(method, params, { on })`: the worker's `workerEmit` events reach `on` in this thread. It
   * runs as the item's task, so what it submits (a subtask on the same pool) is queued by the item.
   * The options object is the program's, seen through a new one that only adds `on`.
   */
  const withItemEvents = (args: unknown[], itemId: string): unknown[] => {
    try {
      const options = args[2] as { on?: unknown } | undefined;
      const on = options?.on;
      if (typeof options !== 'object' || options === null || typeof on !== 'function') return args;
      const cell = tracker.tasks.itemTask(itemId);
      const seen = Object.create(options) as { on: unknown };
      Object.defineProperty(seen, 'on', {
        value(this: unknown, ...payload: unknown[]) {
          return tracker.tasks.run(cell, () => (on as (...p: unknown[]) => unknown).apply(this, payload));
        },
        enumerable: true,
        writable: true,
        configurable: true,
      });
      const copy = args.slice();
      copy[2] = seen;
      return copy;
    } catch {
      return args;
    }
  };

  return [
    ['piscina', threadPool((e) => (e as { Piscina?: unknown })?.Piscina ?? e)],
    ['tinypool', threadPool((e) => (e as { Tinypool?: unknown })?.Tinypool ?? (e as { default?: unknown })?.default)],
    ['workerpool', workerpool],
  ];
}
