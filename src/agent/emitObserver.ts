/**
 * Seeing an emitter's events without adding listeners. A listener would be visible to the program
 * (listenerCount, the one-listener fast path of emit, whose line shows in stacks), and an 'error'
 * listener would even stop an unhandled error from crashing. So `emit` itself is wrapped on the
 * prototype of the objects the agent follows (its Worker subclass, ChildProcess).
 *
 * For an 'error' nobody listens to, Node records where it was emitted by hiding every frame above
 * `EventEmitter.prototype.emit` — looked up at that moment. The wrapper stands in for it during that
 * one call, so the "Emitted 'error' event … at:" lines do not show the agent either.
 */
import type { BuiltinMap } from './builtins';
import { makeRoomForWrapperFrame, restoreStackLimit } from './stacks';

export type EmitObserver = (emitter: object, type: unknown, args: unknown[]) => void;

export function makeObservedEmit(events: BuiltinMap['events'], observe: EmitObserver): (...args: unknown[]) => boolean {
  const proto = events.EventEmitter.prototype as unknown as Record<string, unknown>;
  const originalEmit = proto.emit as (this: object, ...args: unknown[]) => boolean;
  const listenerCount = proto.listenerCount as (this: object, name: string) => number;
  const wrappers = {
    emit(this: object, ...args: unknown[]): boolean {
      const type = args[0];
      try {
        observe(this, type, args);
      } catch {
        // never into the program
      }
      let replaced: PropertyDescriptor | undefined;
      if (type === 'error') {
        try {
          if (listenerCount.call(this, 'error') === 0) {
            replaced = Object.getOwnPropertyDescriptor(proto, 'emit');
            if (replaced !== undefined) Object.defineProperty(proto, 'emit', { ...replaced, value: wrappers.emit });
          }
        } catch {
          replaced = undefined; // a frozen EventEmitter.prototype: the agent's frame shows, nothing else changes
        }
      }
      const saved = makeRoomForWrapperFrame();
      try {
        return originalEmit.apply(this, args);
      } finally {
        restoreStackLimit(saved);
        if (replaced !== undefined) {
          try {
            Object.defineProperty(proto, 'emit', replaced);
          } catch {
            // cannot happen: it was just defined
          }
        }
      }
    },
  };
  Object.defineProperty(wrappers.emit, 'length', { value: originalEmit.length, configurable: true });
  return wrappers.emit;
}

/** Puts an observed emit on a prototype, as a non-enumerable method like the class's own. */
export function defineEmit(target: object, emit: (...args: unknown[]) => boolean): void {
  Object.defineProperty(target, 'emit', { value: emit, writable: true, enumerable: false, configurable: true });
}
