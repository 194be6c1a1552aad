/**
 * Web Locks (`navigator.locks`, `worker_threads.locks`: Node 24.5+). `LockManager.prototype.request`
 * is patched: every request is a `lock-wait` (the grant is always asynchronous), the callback call
 * is the grant (`null` with ifAvailable: `lock-wait-ended` unavailable), the settling of what the
 * callback returned is the release (the lock manager itself waits on it, so the reaction changes
 * nothing), and an abort of the request's signal before the grant ends the wait. A grant with
 * `steal` says so: the holders it took the lock from lose it then, not when their callbacks end. The callback runs
 * in the requesting task. The resource id is shared by the threads of the process:
 * `weblock:<pid>:<name>`; every thread announces the names it uses.
 */
import type { LockTracker, Resource, Waiter, Holding } from './tracker';
import type { TaskCell } from './tasks';
import { patchMethod, runHolding } from './patch';

const MAX_NAMES = 4096;

export function installWebLocks(tracker: LockTracker, lockManager: unknown): boolean {
  if (typeof lockManager !== 'object' || lockManager === null) return false;
  const proto = Object.getPrototypeOf(lockManager) as object | null;
  if (proto === null || typeof (proto as { request?: unknown }).request !== 'function') return false;
  const { tasks } = tracker;
  const resources = new Map<string, Resource>();
  const resourceOf = (name: string, site: Holding['site']): Resource => {
    let resource = resources.get(name);
    if (resource === undefined) {
      if (resources.size >= MAX_NAMES) resources.clear();
      resource = tracker.createResource({ kind: 'web-lock', library: 'web-locks', name, id: `weblock:${tracker.context.identity.pid}:${name}`, useSite: site });
      resources.set(name, resource);
    }
    return resource;
  };

  patchMethod<(this: object, ...args: unknown[]) => Promise<unknown>>(proto, 'request', (original) =>
    function request(this: object, ...args) {
      const callback = args.length >= 3 ? args[2] : args[1];
      const options = (args.length >= 3 ? args[1] : undefined) as { mode?: unknown; ifAvailable?: unknown; steal?: unknown; signal?: { aborted?: boolean; addEventListener?: (...a: unknown[]) => void } } | undefined;
      if (typeof callback !== 'function' || typeof args[0] !== 'string' || (options !== undefined && (typeof options !== 'object' || options === null))) return original.apply(this, args);
      let cell: TaskCell;
      let waiter: Waiter;
      let resource: Resource;
      const name = args[0];
      let mode: 'exclusive' | 'shared' = 'exclusive';
      try {
        const stack = tracker.stack();
        cell = tasks.forCall(stack);
        resource = resourceOf(name, tracker.site(stack));
        mode = options?.mode === 'shared' ? 'shared' : 'exclusive';
        // ifAvailable and steal never wait: a request that cannot wait closes no cycle.
        const neverWaits = options?.ifAvailable === true || options?.steal === true;
        waiter = tracker.wait(resource, cell, { key: name, mode, timeoutMs: neverWaits ? 0 : undefined, stack });
        cell = waiter.task;
        const signal = options?.signal;
        if (signal !== undefined && typeof signal.addEventListener === 'function') {
          const w = waiter;
          signal.addEventListener('abort', () => tracker.waitEnded(w, 'aborted'), { once: true });
        }
      } catch {
        return original.apply(this, args);
      }
      const userCallback = callback as (lock: unknown) => unknown;
      const wrapped = function (this: unknown, lock: unknown): unknown {
        if (lock === null || lock === undefined) {
          tracker.waitEnded(waiter, 'unavailable');
          return tasks.run(cell, () => userCallback.call(this, lock));
        }
        let holding: Holding | undefined;
        try {
          holding = tracker.acquired(resource, cell, waiter, undefined, undefined, name, mode, options?.steal === true);
        } catch {
          holding = undefined;
        }
        const end = (): void => {
          if (holding !== undefined) tracker.released(holding, cell);
        };
        return runHolding(() => tasks.run(cell, () => userCallback.call(this, lock)), end);
      };
      const copy = args.slice();
      copy[copy.length >= 3 ? 2 : 1] = wrapped;
      return tasks.run(cell, () => original.apply(this, copy));
    },
  );
  return true;
}
