/**
 * Waits that do not keep a thread alive — a pending Atomics.waitAsync, an `events.once` promise,
 * an unsettled top-level await — are what a thread silently exits in the middle of. They are
 * remembered here, so that when the loop drains the agent can say what was still awaited.
 */
import type { PendingWait } from '../protocol/agentEvents';
import type { AgentContext } from './context';
import type { BuiltinMap } from './builtins';
import { replaceMethod } from './atomics';
import { captureStack, makeRoomForWrapperFrame, restoreStackLimit, userSite } from './stacks';

/** Beyond this many remembered waits, settled ones are swept and the oldest forgotten down to LOW_WATER. */
const MAX_PENDING = 256;
/** After a sweep at most this many stay, so a sweep (one probe per entry) happens once per 128 adds. */
const LOW_WATER = 128;

interface Entry {
  wait: PendingWait;
  /** Settled state read at drain time (see isPending): attaching a handler would mark it handled. */
  promise?: Promise<unknown>;
}

export class PendingWaits {
  private readonly entries = new Map<number, Entry>();
  private next = 1;

  constructor(private readonly isPendingPromise: (promise: Promise<unknown>) => boolean) {}

  add(wait: PendingWait, promise?: Promise<unknown>): number {
    const id = this.next++;
    if (wait.site === undefined) delete wait.site;
    this.entries.set(id, promise ? { wait, promise } : { wait });
    if (this.entries.size > MAX_PENDING) this.sweep();
    return id;
  }

  settle(id: number): void {
    this.entries.delete(id);
  }

  /** The waits still pending now, oldest first. */
  list(): PendingWait[] {
    this.sweep(MAX_PENDING);
    return [...this.entries.values()].map((entry) => entry.wait);
  }

  private sweep(keep = LOW_WATER): void {
    for (const [id, entry] of this.entries) {
      if (entry.promise !== undefined && !this.isPendingPromise(entry.promise)) this.entries.delete(id);
    }
    for (const id of this.entries.keys()) {
      if (this.entries.size <= keep) break;
      this.entries.delete(id);
    }
  }
}

/** A promise-state probe that runs no program code: util.inspect without custom inspectors or getters. */
export function promiseProbe(util: BuiltinMap['util']): (promise: Promise<unknown>) => boolean {
  const options = { depth: 0, customInspect: false, getters: false, showProxy: true, maxArrayLength: 0, maxStringLength: 0, breakLength: Infinity };
  return (promise) => {
    try {
      return util.inspect(promise, options).startsWith('Promise { <pending>');
    } catch {
      return false;
    }
  };
}

/** A short name for an emitter: a worker or child the agent knows, `process`, or its class. */
export function describeEmitter(context: AgentContext, emitter: unknown): string {
  try {
    if (emitter === process) return 'process';
    if (typeof emitter !== 'object' || emitter === null) return String(emitter);
    const known = context.labels.get(emitter);
    if (known !== undefined) return known;
    const name = (Object.getPrototypeOf(emitter) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'emitter';
  } catch {
    return 'emitter';
  }
}

/** Wraps `events.once` (the same function as `EventEmitter.once`) to remember its pending promises. */
export function installOnceHook(context: AgentContext, events: BuiltinMap['events'], pending: PendingWaits): void {
  const EventEmitter = events as unknown as Record<string, unknown>;
  const original = EventEmitter.once as (...args: unknown[]) => Promise<unknown>;
  if (typeof original !== 'function') throw new Error('events.once is missing');
  const wrappers = {
    once(this: unknown, ...args: unknown[]): Promise<unknown> {
      const saved = makeRoomForWrapperFrame();
      let promise: Promise<unknown>;
      try {
        promise = original.apply(this, args);
      } finally {
        restoreStackLimit(saved);
      }
      try {
        const stack = captureStack(12);
        const name = typeof args[1] === 'symbol' ? args[1].toString() : typeof args[1] === 'string' ? `'${args[1]}'` : typeof args[1] === 'number' ? String(args[1]) : typeof args[1];
        pending.add(
          { kind: 'events.once', description: `once(${describeEmitter(context, args[0])}, ${name})`, site: userSite(stack), stack, since: context.now() },
          promise,
        );
      } catch {
        // not tracked
      }
      return promise;
    },
  };
  replaceMethod(EventEmitter, 'once', wrappers.once, original.length);
}
