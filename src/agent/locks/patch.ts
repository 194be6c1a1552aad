/** Helpers for patching library prototypes without changing what the program can observe. */

/** Replaces a method on a prototype (same attributes, name and length). Throws when it cannot. */
export function patchMethod<T extends (...args: never[]) => unknown>(proto: object, key: string, make: (original: T) => T): T {
  const descriptor = Object.getOwnPropertyDescriptor(proto, key);
  if (descriptor === undefined || !('value' in descriptor) || typeof descriptor.value !== 'function') throw new Error(`${key} is not a method`);
  const original = descriptor.value as T;
  const wrapper = make(original);
  // Only where they differ: a function whose `length` or `name` was redefined has another map, and
  // calls through it are slower (1,000,000 uncontended async-mutex pairs on Node 24: 1.31× → 1.20×
  // of the bare time, 21 alternating pairs). async-mutex's wrappers match its CommonJS build's
  // methods (anonymous, same parameters), so nothing is redefined there.
  try {
    if (wrapper.length !== original.length) Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
    if (wrapper.name !== original.name) Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  } catch {
    // cosmetic
  }
  Object.defineProperty(proto, key, { ...descriptor, value: wrapper });
  return original;
}

/**
 * Sees construction through the first assignment of `field` in the constructor (`this.field = …`):
 * an accessor on the prototype turns it into an own data property, exactly as the plain assignment
 * would, and calls `seen(instance, value)` once. Works for constructors that assign (TypeScript
 * and Babel output, hand-written ES5), not for class fields.
 */
export function observeConstruction(proto: object, field: string, seen: (instance: object, value: unknown) => void): void {
  if (Object.getOwnPropertyDescriptor(proto, field) !== undefined) throw new Error(`${field} already on the prototype`);
  Object.defineProperty(proto, field, {
    configurable: true,
    enumerable: false,
    get(): undefined {
      return undefined;
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, field, { value, writable: true, enumerable: true, configurable: true });
      try {
        seen(this, value);
      } catch {
        // never into the program
      }
    },
  });
}

/** Whether all of `keys` are functions on `proto`. */
export function hasMethods(proto: unknown, keys: string[]): boolean {
  if ((typeof proto !== 'object' && typeof proto !== 'function') || proto === null) return false;
  return keys.every((key) => typeof (proto as Record<string, unknown>)[key] === 'function');
}

export const originalThen = Promise.prototype.then;

/**
 * Runs `ok` or `failed` when a native promise settles. Adding a reaction marks the promise handled,
 * so this is only used on promises that cannot reject or that the library itself handles.
 */
export function onSettled(value: unknown, ok: (result: unknown) => void, failed?: (error: unknown) => void): void {
  if (!(value instanceof Promise)) return;
  void originalThen.call(
    value,
    (result: unknown) => {
      try {
        ok(result);
      } catch {
        // never into the program
      }
    },
    (error: unknown) => {
      try {
        failed?.(error);
      } catch {
        // never into the program
      }
    },
  );
}

/**
 * Runs the program's callback (of a lock held for its duration) and calls `end` when it is over:
 * when it throws, when the promise it returns settles (the library settles on that promise too, so
 * the reaction marks nothing handled that was not), or at once for a plain value.
 */
export function runHolding<R>(run: () => R, end: () => void): R {
  let result: R;
  try {
    result = run();
  } catch (error) {
    end();
    throw error;
  }
  if (result instanceof Promise) onSettled(result, end, end);
  else end();
  return result;
}

/**
 * A WeakMap that remembers its last look-up: a loop over one lock pays the map's hash look-up
 * once (each costs about 8 ns, a tenth of the whole budget of an uncontended pair). The last key
 * is held strongly until another is looked up: one library object at the most.
 */
export class LastLookupMap<K extends object, V> {
  private readonly map = new WeakMap<K, V>();
  private lastKey: K | undefined;
  private lastValue: V | undefined;

  get(key: K): V | undefined {
    if (key === this.lastKey) return this.lastValue;
    const value = this.map.get(key);
    this.lastKey = key;
    this.lastValue = value;
    return value;
  }

  set(key: K, value: V): void {
    this.map.set(key, value);
    if (key === this.lastKey) this.lastValue = value;
  }
}
