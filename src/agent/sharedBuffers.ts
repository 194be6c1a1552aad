/**
 * Names for SharedArrayBuffers. One buffer is a different JS object in every thread, so a thread
 * that hands buffers to a worker in workerData tells the worker their ids (by workerData path, through
 * worker environment data) and both threads report the same id for the same memory.
 */
import type { SharedBufferRef } from '../protocol/agentEvents';

const MAX_WALK_NODES = 400;
const MAX_WALK_DEPTH = 4;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

const typedArrayBuffer = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), 'buffer')?.get;
const dataViewBuffer = Object.getOwnPropertyDescriptor(DataView.prototype, 'buffer')?.get;
const sabByteLength = typeof SharedArrayBuffer === 'function' ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')?.get : undefined;

export function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  if (typeof value !== 'object' || value === null || sabByteLength === undefined) return false;
  try {
    sabByteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

/** The buffer behind a typed array or DataView, without calling anything the program defined. */
export function bufferOf(view: unknown): ArrayBufferLike | undefined {
  try {
    if (!ArrayBuffer.isView(view)) return undefined;
    return (view instanceof DataView ? dataViewBuffer : typedArrayBuffer)?.call(view) as ArrayBufferLike | undefined;
  } catch {
    return undefined;
  }
}

export class SharedBufferRegistry {
  private readonly refs = new WeakMap<SharedArrayBuffer, SharedBufferRef>();
  private next = 1;

  constructor(private readonly idPrefix: string) {}

  /** The buffer's ref, made on first sight. */
  refOf(buffer: SharedArrayBuffer, label?: string): SharedBufferRef {
    let ref = this.refs.get(buffer);
    if (ref === undefined) {
      ref = { id: `${this.idPrefix}:${this.next++}`, byteLength: sabByteLength?.call(buffer) as number };
      if (label !== undefined) ref.label = label;
      this.refs.set(buffer, ref);
    }
    return ref;
  }

  /** Records a buffer under an id another thread gave it. */
  adopt(buffer: SharedArrayBuffer, id: string | undefined, label: string): void {
    if (this.refs.has(buffer)) return;
    if (id === undefined) {
      this.refOf(buffer, label);
      return;
    }
    this.refs.set(buffer, { id, byteLength: sabByteLength?.call(buffer) as number, label });
  }
}

/**
 * The SharedArrayBuffers reachable from `root` (plain objects and arrays, own data properties only,
 * bounded), by path: `workerData.signal`, `workerData.locks[0]`. Getters and proxies are not touched:
 * the walk must not run program code.
 */
export function findSharedBuffers(root: unknown, rootPath: string, isProxy: (value: unknown) => boolean): Array<{ path: string; buffer: SharedArrayBuffer }> {
  const found: Array<{ path: string; buffer: SharedArrayBuffer }> = [];
  const seen = new Set<unknown>();
  let budget = MAX_WALK_NODES;
  const visit = (value: unknown, path: string, depth: number): void => {
    if (budget-- <= 0 || typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    if (isProxy(value)) return;
    if (isSharedArrayBuffer(value)) {
      found.push({ path, buffer: value });
      return;
    }
    const viewBuffer = bufferOf(value);
    if (viewBuffer !== undefined) {
      if (isSharedArrayBuffer(viewBuffer)) found.push({ path, buffer: viewBuffer });
      return;
    }
    if (depth >= MAX_WALK_DEPTH) return;
    const proto = Object.getPrototypeOf(value) as unknown;
    const isArray = Array.isArray(value);
    if (!isArray && proto !== Object.prototype && proto !== null) return;
    for (const key of Object.keys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor === undefined || !('value' in descriptor)) continue;
      const childPath = isArray ? `${path}[${key}]` : IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      visit(descriptor.value, childPath, depth + 1);
    }
  };
  try {
    visit(root, rootPath, 0);
  } catch {
    // a partial answer is fine
  }
  return found;
}
