import type { SharedBufferRef, WorkerCreatedEvent } from '../protocol/agentEvents';

/** Most buffer labels remembered (one per SharedArrayBuffer a thread named itself). */
export const MAX_BUFFER_LABELS = 100_000;
/** Longest chain of worker hand-overs followed (nested workers). */
const MAX_HOPS = 64;

/** What a thread was handed by its creator: the creator's thread and its ids by workerData path. */
interface WorkerRecord {
  parentThreadId: number;
  byLabel: Map<string, string>;
}

/**
 * Canonical names for SharedArrayBuffers across the threads of a process.
 *
 * Every thread names a buffer it has not seen before `<pid>:<threadId>:<n>`; one buffer is therefore
 * known under several ids. The agent usually passes the creator's id to a worker (then ids already
 * agree); when it could not, the worker's own ref carries `label` (`workerData.forks`), and the
 * creator's `worker-created` event lists the ids it handed over by the same path. Following those
 * records up the thread tree gives the id of the thread that first saw the buffer: the canonical id.
 *
 * Limits: a buffer that reached a thread another way (`postMessage`) keeps that thread's id; a
 * thread's own label is learned only from refs that thread reported (a block event, or
 * {@link canonical}).
 */
export class SharedBufferNames {
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly ownLabels = new Map<string, string>();
  private readonly cache = new Map<string, string>();

  /** Records what a thread handed to the worker it created. Returns true when it taught something new. */
  recordWorker(pid: number, parentThreadId: number, event: WorkerCreatedEvent): boolean {
    const buffers = event.sharedBuffers ?? [];
    if (buffers.length === 0) return false;
    const key = `${pid}:${event.threadId}`;
    let record = this.workers.get(key);
    if (!record) {
      record = { parentThreadId, byLabel: new Map() };
      this.workers.set(key, record);
    }
    let changed = false;
    for (const b of buffers) {
      if (b.label === undefined || record.byLabel.get(b.label) === b.id) continue;
      record.byLabel.set(b.label, b.id);
      changed = true;
    }
    if (changed) this.cache.clear();
    return changed;
  }

  /** Learns the label of a buffer from the thread that named it. Returns true when it is new. */
  observe(pid: number, threadId: number, ref: SharedBufferRef): boolean {
    if (ref.label === undefined || !ref.id.startsWith(`${pid}:${threadId}:`)) return false;
    if (this.ownLabels.has(ref.id) || this.ownLabels.size >= MAX_BUFFER_LABELS) return false;
    this.ownLabels.set(ref.id, ref.label);
    this.cache.clear();
    return true;
  }

  /** The canonical id of a buffer as thread `threadId` of `pid` reported it. */
  canonical(pid: number, threadId: number, ref: SharedBufferRef): string {
    this.observe(pid, threadId, ref);
    return this.resolve(ref.id);
  }

  /** The canonical id of a buffer id (as named by any thread). */
  resolve(bufferId: string): string {
    const cached = this.cache.get(bufferId);
    if (cached !== undefined) return cached;
    let id = bufferId;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const owner = ownerOf(id);
      const label = this.ownLabels.get(id);
      const record = owner && this.workers.get(`${owner.pid}:${owner.threadId}`);
      const parentId = label !== undefined && record ? record.byLabel.get(label) : undefined;
      if (parentId === undefined || parentId === id) break;
      id = parentId;
    }
    if (this.cache.size < MAX_BUFFER_LABELS) this.cache.set(bufferId, id);
    return id;
  }
}

/** The thread that named a buffer id `<pid>:<threadId>:<n>`. */
export function ownerOf(bufferId: string): { pid: number; threadId: number } | undefined {
  const m = /^(\d+):(\d+):/.exec(bufferId);
  return m ? { pid: Number(m[1]), threadId: Number(m[2]) } : undefined;
}

/** Splits `futex:<bufferId>:<byteOffset>`. */
export function parseFutexId(resourceId: string): { bufferId: string; byteOffset: string } | undefined {
  if (!resourceId.startsWith('futex:')) return undefined;
  const last = resourceId.lastIndexOf(':');
  if (last <= 'futex:'.length) return undefined;
  return { bufferId: resourceId.slice('futex:'.length, last), byteOffset: resourceId.slice(last + 1) };
}

/** `futex:<bufferId>:<byteOffset>`. */
export function futexId(bufferId: string, byteOffset: string | number): string {
  return `futex:${bufferId}:${byteOffset}`;
}
