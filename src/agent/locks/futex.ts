/**
 * Futex-style locks on SharedArrayBuffer words, held by a thread as a whole (`thread:<pid>:<tid>`).
 *
 * Heuristics (conservative: counters and flags must not look like locks):
 * - an address is lock-like once this thread tried to take it: `compareExchange(a, i, 0, v≠0)`
 *   (won or lost) or `exchange(a, i, v≠0)`; counters (`add`, `sub`) and plain flags never are;
 * - a lock-like address is a lock word once this thread also used it with `Atomics.wait` (with a
 *   non-zero expected value: waiting while it is taken) or `Atomics.notify` ("confirmed");
 * - acquire: `compareExchange(a, i, 0, v≠0)` that succeeded, or `exchange(a, i, v≠0)` returning 0;
 *   on a confirmed address it is reported at once; otherwise it is remembered (at most
 *   {@link MAX_CANDIDATES}) and reported when the address gets confirmed (the unlock's notify), or
 *   when this thread blocks in `Atomics.wait` on the same buffer while still holding it (the
 *   deadlock case: holding one word, waiting on another);
 * - release: `store(a, i, 0)`, `exchange(a, i, 0)`, `compareExchange(a, i, v≠0, 0)` on a held word;
 * - wait: a blocking `Atomics.wait(a, i, v≠0)` on the word (one wait event until the thread gets it);
 * - a counter, never a lock (a counting semaphore's permits: taking one is a decrement, and a
 *   release from 0 permits looks like a lock's `0 → 1`): a word this thread decremented with
 *   `compareExchange(a, i, v, w)` where `0 < w < v`, or set from `v≠0` to 0 without holding it, or
 *   waited on with `Atomics.wait(a, i, 0)` (a lock waits while its word is taken, never while free).
 * Only number and bigint arguments are looked at (never coerced: no valueOf runs twice).
 */
import type { BlockReason } from '../../protocol/agentEvents';
import type { SharedBufferRegistry } from '../sharedBuffers';
import type { TaskCell } from './tasks';
import type { Holding, LockTracker, Resource, Waiter } from './tracker';
import { bufferOf, isSharedArrayBuffer } from '../sharedBuffers';
import { replaceMethod, waitObservers } from '../atomics';

const MAX_CANDIDATES = 64;
const MAX_ADDRESSES = 4096;

interface Address {
  key: string;
  buffer: SharedArrayBuffer;
  index: number;
  byteOffset: number;
}
interface Candidate extends Address {
  ts: number;
  site: Holding['site'];
}

const isZero = (v: unknown): boolean => v === 0 || v === 0n;
const isPrimitiveNumber = (v: unknown): boolean => typeof v === 'number' || typeof v === 'bigint';

export function installFutexLocks(tracker: LockTracker, buffers: SharedBufferRegistry): void {
  const { pid, threadId } = tracker.context.identity;
  const task: TaskCell = { id: `thread:${pid}:${threadId}` };
  const confirmed = new Set<string>();
  /** Addresses this thread tried to take with compareExchange(0 → v) or exchange(v) from 0. */
  const lockish = new Set<string>();
  /** Addresses used as counters (see above): never lock words, in this thread. */
  const counters = new Set<string>();
  const confirmedBuffers = new WeakSet<SharedArrayBuffer>();
  const candidates = new Map<string, Candidate>();
  /** Words this thread holds: the Holding, or the resource for a quick hold (see LockTracker.quickHold). */
  const held = new Map<string, Holding | Resource>();
  const waiters = new Map<string, Waiter>();
  const resources = new Map<string, Resource>();

  /** Per typed array: its shared buffer, the buffer's id, where the array starts, and the addresses made so far (null: not shared). */
  interface View {
    buffer: SharedArrayBuffer;
    id: string;
    base: number;
    bytes: number;
    length: number;
    addresses: Map<number, Address>;
  }
  const views = new WeakMap<object, View | null>();
  const addressOf = (array: unknown, index: unknown): Address | undefined => {
    if (typeof array !== 'object' || array === null || typeof index !== 'number') return undefined;
    let view = views.get(array);
    if (view === undefined) {
      view = null;
      if (array instanceof Int32Array || array instanceof BigInt64Array) {
        const buffer = bufferOf(array);
        if (isSharedArrayBuffer(buffer)) view = { buffer, id: buffers.refOf(buffer).id, base: array.byteOffset, bytes: array instanceof BigInt64Array ? 8 : 4, length: array.length, addresses: new Map() };
      }
      views.set(array, view);
    }
    if (view === null) return undefined;
    let address = view.addresses.get(index);
    if (address === undefined) {
      if (!Number.isInteger(index) || index < 0 || index >= view.length) return undefined;
      const byteOffset = view.base + index * view.bytes;
      address = { key: `${view.id}:${byteOffset}`, buffer: view.buffer, index, byteOffset };
      if (view.addresses.size >= MAX_CANDIDATES) view.addresses.clear();
      view.addresses.set(index, address);
    }
    return address;
  };

  const resourceOf = (address: Address, site: Holding['site']): Resource => {
    let resource = resources.get(address.key);
    if (resource === undefined) {
      if (resources.size >= MAX_ADDRESSES) resources.clear();
      const ref = buffers.refOf(address.buffer);
      resource = tracker.createResource({ kind: 'futex', library: 'atomics', id: `futex:${address.key}`, name: `${ref.label ?? `SharedArrayBuffer ${ref.id}`} byte ${address.byteOffset}`, useSite: site, capacity: 1 });
      resources.set(address.key, resource);
    }
    return resource;
  };

  const confirm = (address: Address): void => {
    if (confirmed.has(address.key) || !lockish.has(address.key)) return;
    if (confirmed.size >= MAX_ADDRESSES) confirmed.clear();
    confirmed.add(address.key);
    confirmedBuffers.add(address.buffer);
    if (candidates.size > 0) promote(address.key);
  };

  const promote = (key: string): void => {
    const candidate = candidates.get(key);
    if (candidate === undefined) return;
    candidates.delete(key);
    const holding = tracker.acquired(resourceOf(candidate, candidate.site), task, undefined, candidate.site);
    holding.ts = candidate.ts;
    held.set(key, holding);
  };

  const markLockish = (address: Address): void => {
    if (lockish.has(address.key) || counters.has(address.key)) return;
    if (lockish.size >= MAX_ADDRESSES) lockish.clear();
    lockish.add(address.key);
  };

  /** The word is a counter: forget it as a lock, ending a hold reported by mistake. */
  const demote = (address: Address): void => {
    if (counters.has(address.key)) return;
    if (counters.size >= MAX_ADDRESSES) counters.clear();
    counters.add(address.key);
    releaseAt(address);
    lockish.delete(address.key);
    confirmed.delete(address.key);
    const waiter = waiters.get(address.key);
    waiters.delete(address.key);
    if (waiter !== undefined) tracker.waitEnded(waiter, 'unavailable');
  };

  const acquireAt = (address: Address): void => {
    if (counters.has(address.key)) return;
    markLockish(address);
    const waiter = waiters.get(address.key);
    waiters.delete(address.key);
    if (confirmed.has(address.key)) {
      const resource = resourceOf(address, undefined);
      if (waiter === undefined && tracker.quiet(resource)) {
        tracker.quickHold(resource, task);
        held.set(address.key, resource);
        return;
      }
      const site = waiter === undefined && tracker.detailed(resource) ? tracker.site() : undefined;
      held.set(address.key, tracker.acquired(resource, task, waiter, site));
      return;
    }
    if (candidates.size >= MAX_CANDIDATES) candidates.delete(candidates.keys().next().value as string);
    candidates.set(address.key, { ...address, ts: tracker.context.now(), site: tracker.site() });
  };

  const releaseAt = (address: Address): void => {
    candidates.delete(address.key);
    const holding = held.get(address.key);
    if (holding === undefined) return;
    held.delete(address.key);
    if ('holdings' in holding) {
      // A quick hold: gone, unless a wait turned it into a Holding meanwhile.
      if (holding.quick !== undefined) tracker.quickReleased(holding);
      else {
        const late = holding.holdings.find((h) => h.task === task.id);
        if (late !== undefined) tracker.released(late, task);
      }
      return;
    }
    tracker.released(holding, task);
  };

  /** A wait that timed out is over: the thread no longer waits for the word (it may retry later). */
  const afterWait = (key: string, result: string): void => {
    if (result !== 'timed-out') return;
    const waiter = waiters.get(key);
    if (waiter === undefined) return;
    waiters.delete(key);
    tracker.waitEnded(waiter, 'timeout');
  };

  const onWait = (reason: Extract<BlockReason, { kind: 'atomics.wait' }>, buffer: SharedArrayBuffer): ((result: string) => void) | undefined => {
    const key = `${reason.buffer.id}:${reason.byteOffset}`;
    const address: Address = { key, buffer, index: reason.index, byteOffset: reason.byteOffset };
    // Blocking while holding words of the same buffer: report them now (the thread cannot later).
    for (const candidate of [...candidates.values()]) if (candidate.buffer === buffer) promote(candidate.key);
    if (reason.value === 0 || reason.value === '0') {
      if (lockish.has(key)) demote(address);
      return undefined;
    }
    if (!lockish.has(key)) return undefined;
    confirm(address);
    // Waiting on a word this thread holds is reported too: a self-deadlock unless a timeout ends it.
    if (!waiters.has(key)) waiters.set(key, tracker.wait(resourceOf(address, undefined), task, { timeoutMs: reason.timeoutMs }));
    return reason.timeoutMs === null ? undefined : (result) => afterWait(key, result);
  };
  waitObservers.push(onWait);

  const atomics = Atomics as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originalCas = atomics.compareExchange;
  const originalStore = atomics.store;
  const originalExchange = atomics.exchange;
  const originalNotify = atomics.notify;
  // Fixed arity, no rest arrays: these run in spin loops. Missing arguments are undefined either way.
  const wrappers = {
    compareExchange(array: unknown, index: unknown, expected: unknown, replacement: unknown): unknown {
      const old = originalCas(array, index, expected, replacement);
      if (isPrimitiveNumber(expected) && isPrimitiveNumber(replacement)) {
        try {
          const succeeded = old == expected;
          if (isZero(expected) && !isZero(replacement)) {
            const address = addressOf(array, index);
            if (address !== undefined) {
              if (succeeded) acquireAt(address);
              else markLockish(address);
            }
          } else if (succeeded && isZero(replacement) && !isZero(expected)) {
            const address = addressOf(array, index);
            if (address !== undefined) {
              if (held.has(address.key) || candidates.has(address.key)) releaseAt(address);
              else demote(address);
            }
          } else if (succeeded && !isZero(replacement) && !isZero(expected) && (replacement as number) < (expected as number) && (replacement as number) > 0) {
            const address = addressOf(array, index);
            if (address !== undefined) demote(address);
          }
        } catch {
          // never into the program
        }
      }
      return old;
    },
    store(array: unknown, index: unknown, value: unknown): unknown {
      const result = originalStore(array, index, value);
      if (isZero(value) && (held.size > 0 || candidates.size > 0)) {
        try {
          const address = addressOf(array, index);
          if (address !== undefined) releaseAt(address);
        } catch {
          // never into the program
        }
      }
      return result;
    },
    exchange(array: unknown, index: unknown, value: unknown): unknown {
      const old = originalExchange(array, index, value);
      if (isPrimitiveNumber(value)) {
        try {
          if (isZero(value) && !isZero(old) && (held.size > 0 || candidates.size > 0)) {
            const address = addressOf(array, index);
            if (address !== undefined) releaseAt(address);
          } else if (!isZero(value)) {
            const address = addressOf(array, index);
            if (address !== undefined) {
              if (isZero(old)) acquireAt(address);
              else markLockish(address);
            }
          }
        } catch {
          // never into the program
        }
      }
      return old;
    },
    notify(array: unknown, index: unknown, count: unknown): unknown {
      try {
        const address = lockish.size > 0 ? addressOf(array, index) : undefined;
        if (address !== undefined) confirm(address);
      } catch {
        // never into the program
      }
      return originalNotify(array, index, count);
    },
  };
  replaceMethod(atomics, 'compareExchange', wrappers.compareExchange, 4);
  replaceMethod(atomics, 'store', wrappers.store, 3);
  replaceMethod(atomics, 'exchange', wrappers.exchange, 3);
  replaceMethod(atomics, 'notify', wrappers.notify, 3);
}
