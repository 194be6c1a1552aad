/**
 * Atomics.wait and Atomics.waitAsync, observed. A wait that will really block sends `block` and
 * writes it out before blocking (the thread cannot send anything while it waits), then `unblock`.
 * A pending waitAsync is remembered, so a thread whose loop drains while one is pending says so.
 */
import type { BlockReason } from '../protocol/agentEvents';
import type { AgentContext } from './context';
import type { PendingWaits } from './pending';
import { bufferOf, isSharedArrayBuffer } from './sharedBuffers';
import type { SharedBufferRegistry } from './sharedBuffers';
import { captureStack, makeRoomForWrapperFrame, restoreStackLimit, userSite } from './stacks';

type Waitable = Int32Array | BigInt64Array;

const originalLoad = Atomics.load;
const originalThen = Promise.prototype.then;
const bytesPerElement = (array: Waitable): number => (array instanceof BigInt64Array ? 8 : 4);

/** Called right before a blocking Atomics.wait is announced (futex locks, see locks/futex.ts). */
/** Told of each blocking wait before it starts; what one returns is called with the wait's result after it. */
export const waitObservers: Array<(reason: Extract<BlockReason, { kind: 'atomics.wait' }>, buffer: SharedArrayBuffer) => ((result: string) => void) | undefined> = [];

export function installAtomicsHooks(context: AgentContext, buffers: SharedBufferRegistry, pending: PendingWaits): void {
  const atomics = Atomics as unknown as Record<string, unknown>;
  const originalWait = Atomics.wait;
  const originalWaitAsync = (Atomics as { waitAsync?: (...args: unknown[]) => { async: boolean; value: unknown } }).waitAsync;

  /** What the wait is on, when it is a wait that can block; undefined when it returns at once. */
  const describe = (array: unknown, index: unknown, value: unknown, timeout: unknown): BlockReason | undefined => {
    if (!(array instanceof Int32Array) && !(array instanceof BigInt64Array)) return undefined;
    const buffer = bufferOf(array);
    if (!isSharedArrayBuffer(buffer) || typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= array.length) return undefined;
    // Primitive arguments only: coercing an object would run its valueOf a second time.
    if (timeout !== undefined && typeof timeout !== 'number') return undefined;
    const timeoutMs = timeout === undefined || Number.isNaN(timeout) ? Infinity : Math.max(0, timeout);
    if (timeoutMs === 0) return undefined;
    if (array instanceof BigInt64Array) {
      if (typeof value !== 'bigint') return undefined;
      if (originalLoad(array, index) !== BigInt.asIntN(64, value)) return undefined;
    } else {
      if (typeof value !== 'number') return undefined;
      if (originalLoad(array, index) !== (value | 0)) return undefined;
    }
    return {
      kind: 'atomics.wait',
      buffer: buffers.refOf(buffer),
      index,
      byteOffset: array.byteOffset + index * bytesPerElement(array),
      value: typeof value === 'bigint' ? value.toString() : value | 0,
      timeoutMs: timeoutMs === Infinity ? null : timeoutMs,
    };
  };

  // Method syntax: like the built-ins, the wrappers are not constructors.
  const wrappers = {
    wait(...args: unknown[]): string {
      let reason: BlockReason | undefined;
      let afterWait: ((result: string) => void) | undefined;
      try {
        reason = describe(args[0], args[1], args[2], args[3]);
        if (reason !== undefined) {
          for (const observe of waitObservers) {
            try {
              afterWait = observe(reason as Extract<BlockReason, { kind: 'atomics.wait' }>, bufferOf(args[0]) as SharedArrayBuffer) ?? afterWait;
            } catch {
              // an observer never stops the block event
            }
          }
          context.block(reason, captureStack());
        }
      } catch {
        reason = undefined;
      }
      const saved = makeRoomForWrapperFrame();
      let result = 'error';
      try {
        result = (originalWait as (...a: unknown[]) => string).apply(Atomics, args);
        return result;
      } finally {
        restoreStackLimit(saved);
        if (reason !== undefined) {
          try {
            afterWait?.(result);
            context.unblock(result);
          } catch {
            // never into the program
          }
        }
      }
    },
    waitAsync(...args: unknown[]): { async: boolean; value: unknown } {
      const saved = makeRoomForWrapperFrame();
      let result: { async: boolean; value: unknown };
      try {
        result = (originalWaitAsync as (...a: unknown[]) => { async: boolean; value: unknown }).apply(Atomics, args);
      } finally {
        restoreStackLimit(saved);
      }
      try {
        if (result.async) {
          const array = args[0] as Waitable;
          const buffer = bufferOf(array);
          const ref = isSharedArrayBuffer(buffer) ? buffers.refOf(buffer) : undefined;
          const stack = captureStack();
          const index = typeof args[1] === 'number' ? args[1] : NaN;
          const description = ref ? `Atomics.waitAsync on ${ref.label ?? ref.id}[${index}] (byte ${array.byteOffset + index * bytesPerElement(array)})` : 'Atomics.waitAsync';
          const id = pending.add({ kind: 'atomics.waitAsync', description, site: userSite(stack), stack, since: context.now() });
          // The promise only ever resolves ('ok' or 'timed-out'), so a reaction changes nothing observable.
          const settle = (): void => pending.settle(id);
          void originalThen.call(result.value as Promise<unknown>, settle, settle);
        }
      } catch {
        // not tracked
      }
      return result;
    },
  };

  replaceMethod(atomics, 'wait', wrappers.wait, 4);
  if (typeof originalWaitAsync === 'function') replaceMethod(atomics, 'waitAsync', wrappers.waitAsync, 4);
}

/** Replaces a function property, keeping its attributes, length and name. Throws when it cannot. */
export function replaceMethod(target: object, key: string, wrapper: (...args: never[]) => unknown, length: number): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || !('value' in descriptor)) throw new Error(`${key} is not a plain property`);
  Object.defineProperty(wrapper, 'length', { value: length, configurable: true });
  Object.defineProperty(wrapper, 'name', { value: key, configurable: true });
  Object.defineProperty(target, key, { ...descriptor, value: wrapper });
  if ((target as Record<string, unknown>)[key] !== wrapper) throw new Error(`${key} could not be replaced`);
}
