/**
 * async-lock (1.x), async-sema (3.x) and await-lock (2.x, 3.x): prototype patches that only look.
 *
 * - async-lock: `acquire(key, fn, cb?, opts?)` runs in the caller's task (a new one when it has
 *   none); the wait is seen when the key's queue exists, the grant when the library calls `fn`,
 *   the release when `fn`'s callback is called or its promise settles. Key arrays are the library's
 *   own nested acquires, each seen. One resource per AsyncLock, `key` on every event.
 * - async-sema: `acquire()` waits when `tryAcquire()` inside it finds no token; the grant is the
 *   fulfilment of the promise `acquire` returns (a reaction is added: it cannot reject unless the
 *   program's pauseFn throws); `release()` ends the releasing task's oldest hold.
 * - await-lock: `acquireAsync()` waits when `acquired` is true; the grant is the fulfilment of the
 *   returned promise (with a `timeout`, the reaction marks its rejection handled — the one
 *   observable difference, documented); `tryAcquire()`, `release()`.
 */
import type { StackFrames } from '../../protocol/agentEvents';
import type { TaskCell } from './tasks';
import { NO_ARGUMENTS } from './tasks';
import type { Holding, LockTracker, Resource, Waiter } from './tracker';
import { hasMethods, observeConstruction, onSettled, patchMethod, runHolding } from './patch';

const patched = new WeakSet<object>();

export function adoptAsyncLock(exports: unknown, library: string, tracker: LockTracker): boolean {
  const AsyncLock = (typeof exports === 'function' ? exports : (exports as { default?: unknown })?.default) as unknown as ({ prototype: object } & (() => void)) | undefined;
  if (typeof AsyncLock !== 'function') return false;
  const proto = AsyncLock.prototype;
  if (patched.has(proto)) return true;
  if (!hasMethods(proto, ['acquire', '_acquireBatch', 'isBusy']) || 'queues' in proto) return false;
  if (!/this\.queues\s*=/.test(Function.prototype.toString.call(AsyncLock))) return false;
  patched.add(proto);
  const { tasks } = tracker;
  const resources = new WeakMap<object, Resource>();
  const resourceOf = (lock: object): Resource => {
    let resource = resources.get(lock);
    if (resource === undefined) {
      resource = tracker.createResource({ kind: 'keyed-lock', library, useSite: tracker.site() });
      resources.set(lock, resource);
    }
    return resource;
  };
  observeConstruction(proto, 'queues', (lock) => {
    const resource = tracker.createResource({ kind: 'keyed-lock', library, creation: tracker.stack(), reentrant: false });
    resources.set(lock, resource);
    tracker.announce(resource);
  });

  patchMethod<(this: object, key: unknown, fn: unknown, cb?: unknown, opts?: unknown) => unknown>(proto, 'acquire', (original) =>
    function acquire(this: object, ...args) {
      const [key, fn] = args;
      let cell: TaskCell;
      try {
        if (Array.isArray(key)) {
          const stack = tracker.stack();
          cell = tasks.forCall(stack);
          const site = tracker.site(stack);
          if (site) cell.site = site;
          return tasks.run(cell, () => original.apply(this, args));
        }
        if (typeof fn !== 'function' || (typeof key !== 'string' && typeof key !== 'number')) return original.apply(this, args);
      } catch {
        return original.apply(this, args);
      }
      let waiter: Waiter | undefined;
      let site: Holding['site'];
      let resource: Resource | undefined;
      const keyText = String(key);
      try {
        resource = resourceOf(this);
        const self = this as { queues: Record<string, unknown[]>; timeout?: number; maxPending?: number };
        const opts = (typeof args[2] === 'function' ? args[3] : args[2]) as { timeout?: number; maxPending?: number } | undefined;
        const queue = self.queues[keyText];
        const maxPending = opts?.maxPending || self.maxPending;
        const wait = queue !== undefined && !(typeof maxPending === 'number' && queue.length >= maxPending);
        const stack = tracker.wantsStack(resource, wait) ? tracker.stack() : undefined;
        cell = tasks.forCall(stack);
        if (wait) {
          const timeout = opts?.timeout || self.timeout;
          waiter = tracker.wait(resource, cell, { key: keyText, stack, timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : undefined });
          cell = waiter.task;
        } else if (stack !== undefined) {
          site = tracker.site(stack) ?? cell.site;
        }
      } catch {
        resource = undefined;
      }
      if (resource === undefined) return original.apply(this, args);
      const res = resource;
      const task = cell!;
      const userFn = fn as (...a: unknown[]) => unknown;
      let holding: Holding | undefined;
      const start = (): void => {
        try {
          holding = tracker.acquired(res, task, waiter, site, undefined, keyText);
        } catch {
          holding = undefined;
        }
      };
      const end = (): void => {
        try {
          if (holding !== undefined) tracker.released(holding, task);
        } catch {
          // never into the program
        }
      };
      const wrapped =
        userFn.length === 1
          ? function (this: unknown, done: (...a: unknown[]) => unknown) {
              start();
              const finish = function (this: unknown, ...result: unknown[]) {
                end();
                return done.apply(this, result);
              };
              return tasks.apply(task, userFn, this, [finish]);
            }
          : function (this: unknown) {
              start();
              // The library settles on the result (this.Promise.resolve(result).then(done, done)).
              return runHolding(() => tasks.apply(task, userFn, this, NO_ARGUMENTS), end);
            };
      const copy = args.slice();
      copy[1] = wrapped;
      return tasks.apply(task, original as (...a: unknown[]) => unknown, this, copy);
    },
  );
  return true;
}

export function adoptAsyncSema(exports: unknown, library: string, tracker: LockTracker): boolean {
  const Sema = (exports as { Sema?: unknown })?.Sema as unknown as ({ prototype: object } & (() => void)) | undefined;
  if (typeof Sema !== 'function') return false;
  const proto = Sema.prototype;
  if (patched.has(proto)) return true;
  if (!hasMethods(proto, ['acquire', 'tryAcquire', 'release', 'nrWaiting']) || 'nrTokens' in proto) return false;
  if (!/this\.nrTokens\s*=/.test(Function.prototype.toString.call(Sema))) return false;
  patched.add(proto);
  const { tasks } = tracker;
  const resources = new WeakMap<object, Resource>();
  const creations = new WeakMap<object, StackFrames>();
  const resourceOf = (sema: object): Resource => {
    let resource = resources.get(sema);
    if (resource === undefined) {
      const creation = creations.get(sema);
      const capacity = (sema as { nrTokens?: unknown }).nrTokens;
      resource = tracker.createResource({ kind: 'semaphore', library, creation, useSite: creation ? undefined : tracker.site(), capacity: typeof capacity === 'number' ? capacity : undefined });
      creations.delete(sema);
      resources.set(sema, resource);
    }
    return resource;
  };
  observeConstruction(proto, 'nrTokens', (sema) => creations.set(sema, tracker.stack()));
  let inAcquire: { resource: Resource; task: TaskCell; got?: boolean; site?: Holding['site'] } | undefined;

  patchMethod<(this: object) => unknown>(proto, 'tryAcquire', (original) =>
    function tryAcquire(this: object) {
      const token = original.call(this);
      try {
        if (inAcquire !== undefined) {
          inAcquire.got = token !== undefined;
          if (token !== undefined) tracker.acquired(inAcquire.resource, inAcquire.task, undefined, inAcquire.site, 1);
          inAcquire = undefined;
        } else if (token !== undefined) {
          const resource = resourceOf(this);
          const stack = tracker.detailed(resource) ? tracker.stack() : undefined;
          tracker.acquired(resource, tasks.enter(stack), undefined, stack ? tracker.site(stack) : undefined, 1);
        }
      } catch {
        // never into the program
      }
      return token;
    },
  );

  patchMethod<(this: object) => Promise<unknown>>(proto, 'acquire', (original) =>
    function acquire(this: object) {
      let state: { resource: Resource; task: TaskCell; got?: boolean; site?: Holding['site'] } | undefined;
      let waiter: Waiter | undefined;
      let stack: StackFrames | undefined;
      try {
        const resource = resourceOf(this);
        if (tracker.wantsStack(resource, (this as { free?: { length?: number } }).free?.length === 0)) stack = tracker.stack();
        state = { resource, task: tasks.enter(stack), site: stack ? tracker.site(stack) : undefined };
      } catch {
        state = undefined;
      }
      const saved = inAcquire;
      inAcquire = state;
      let result: Promise<unknown>;
      try {
        result = original.call(this);
      } finally {
        inAcquire = saved;
      }
      try {
        if (state !== undefined && state.got === false) {
          const s = state;
          waiter = tracker.wait(s.resource, s.task, { permits: 1, stack });
          const w = waiter;
          onSettled(result, () => tracker.acquired(s.resource, s.task, w, undefined, 1), () => tracker.waitEnded(w, 'error'));
        }
      } catch {
        // never into the program
      }
      return result;
    },
  );

  patchMethod<(this: object, token?: unknown) => void>(proto, 'release', (original) =>
    function release(this: object, ...args) {
      try {
        const resource = resources.get(this);
        if (resource !== undefined && resource.holdings.length > 0) {
          const task = tasks.peek();
          const holding = tracker.pickHolding(resource, task);
          if (holding !== undefined) tracker.released(holding, task);
        }
      } catch {
        // never into the program
      }
      return original.apply(this, args);
    },
  );
  return true;
}

export function adoptAwaitLock(exports: unknown, library: string, tracker: LockTracker): boolean {
  const AwaitLock = (typeof exports === 'function' ? exports : (exports as { default?: unknown })?.default) as unknown as ({ prototype: object } & (() => void)) | undefined;
  if (typeof AwaitLock !== 'function') return false;
  const proto = AwaitLock.prototype;
  if (patched.has(proto)) return true;
  if (!hasMethods(proto, ['acquireAsync', 'tryAcquire', 'release'])) return false;
  const acquiredGetter = Object.getOwnPropertyDescriptor(proto, 'acquired')?.get;
  if (typeof acquiredGetter !== 'function') return false;
  patched.add(proto);
  const { tasks } = tracker;
  const resources = new WeakMap<object, Resource>();
  const resourceOf = (lock: object, site: Holding['site']): Resource => {
    let resource = resources.get(lock);
    if (resource === undefined) {
      resource = tracker.createResource({ kind: 'mutex', library, useSite: site, capacity: 1, reentrant: false });
      resources.set(lock, resource);
      tracker.announce(resource);
    }
    return resource;
  };
  const isHeld = (lock: object): boolean => acquiredGetter.call(lock) === true;

  patchMethod<(this: object, options?: { timeout?: number }) => Promise<unknown>>(proto, 'acquireAsync', (original) =>
    function acquireAsync(this: object, ...args) {
      let plan: { resource: Resource; task: TaskCell; wait: boolean; stack?: StackFrames; timeout?: number } | undefined;
      try {
        const known = resources.get(this);
        const wait = isHeld(this);
        const stack = known === undefined || tracker.wantsStack(known, wait) ? tracker.stack() : undefined;
        const resource = known ?? resourceOf(this, tracker.site(stack));
        const timeout = (args[0] as { timeout?: unknown } | undefined)?.timeout;
        plan = { resource, task: tasks.enter(stack), wait, stack };
        if (typeof timeout === 'number') plan.timeout = timeout;
      } catch {
        plan = undefined;
      }
      const result = original.apply(this, args);
      try {
        if (plan !== undefined) {
          const p = plan;
          if (!p.wait) {
            tracker.acquired(p.resource, p.task, undefined, p.stack ? tracker.site(p.stack) : undefined);
          } else {
            const waiter = tracker.wait(p.resource, p.task, { stack: p.stack, timeoutMs: p.timeout });
            onSettled(result, () => tracker.acquired(p.resource, p.task, waiter), () => tracker.waitEnded(waiter, 'timeout'));
          }
        }
      } catch {
        // never into the program
      }
      return result;
    },
  );

  patchMethod<(this: object) => boolean>(proto, 'tryAcquire', (original) =>
    function tryAcquire(this: object) {
      const got = original.call(this);
      try {
        if (got === true) {
          const known = resources.get(this);
          const stack = known === undefined || tracker.detailed(known) ? tracker.stack() : undefined;
          const resource = known ?? resourceOf(this, tracker.site(stack));
          tracker.acquired(resource, tasks.enter(stack), undefined, stack ? tracker.site(stack) : undefined);
        }
      } catch {
        // never into the program
      }
      return got;
    },
  );

  patchMethod<(this: object) => void>(proto, 'release', (original) =>
    function release(this: object) {
      try {
        const resource = resources.get(this);
        if (resource !== undefined && resource.holdings.length > 0 && isHeld(this)) {
          const task = tasks.peek();
          const holding = tracker.pickHolding(resource, task);
          if (holding !== undefined) tracker.released(holding, task);
        }
      } catch {
        // never into the program
      }
      return original.call(this);
    },
  );
  return true;
}
