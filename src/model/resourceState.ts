import type { SourceSite, StackFrames } from '../protocol/agentEvents';
import type { LockMode, QueueStatsEvent, ResourceCreatedEvent, ResourceKind } from '../protocol/resourceEvents';

/**
 * The state the resource graph keeps, and the rules of each kind of lock: when a waiter can be
 * granted, and which holders (or waiters ahead) stand in its way.
 */

/** A task's hold on a resource (one per task and resource; reentrant takes count up). */
export interface HoldState {
  resourceId: string;
  taskId: string;
  pid: number;
  threadId: number;
  mode: LockMode;
  /** Permits held in total (semaphores; 1 otherwise). */
  permits: number;
  /** Acquisitions not yet released (reentrant locks, or one semaphore task taking several times). */
  count: number;
  key?: string;
  /** Where it was taken (the first acquisition). */
  site?: SourceSite;
  stack?: StackFrames;
  /** Host time of the first acquisition. */
  since: number;
  /** Agent time (`ts`) of the first acquisition. */
  at: number;
  longHoldReported: boolean;
}

/** A task waiting for a resource. */
export interface WaitState {
  resourceId: string;
  taskId: string;
  pid: number;
  threadId: number;
  mode: LockMode;
  permits: number;
  key?: string;
  /** null: waits for ever. */
  timeoutMs: number | null;
  site?: SourceSite;
  stack?: StackFrames;
  /** Host time the wait began. */
  since: number;
  /** Agent time (`ts`) the wait began. */
  at: number;
}

/** An item of a queue or pool that is queued or running (done items are forgotten). */
export interface PoolItemState {
  taskId: string;
  state: 'queued' | 'running';
  submittedBy?: string;
  workerThreadId?: number;
  site?: SourceSite;
  pid: number;
  threadId: number;
  since: number;
}

/** Counters of a queue or pool, from its last `queue-stats` event. */
export type QueueCounters = Pick<QueueStatsEvent, 'size' | 'running' | 'concurrency' | 'paused' | 'completed' | 'oldestWaitMs'> & {
  /** Host time of the stats. */
  at: number;
};

/** Items and counters of a queue or pool. */
export interface PoolState {
  counters?: QueueCounters;
  items: Map<string, PoolItemState>;
  /** Queued items by the task that submitted them. */
  bySubmitter: Map<string, Set<string>>;
  /** Worker threads that ran its items (pools that say which), at most {@link MAX_POOL_WORKERS}. */
  workers: Set<number>;
  /** Items not tracked one by one because the pool had {@link MAX_POOL_ITEMS} already. */
  untracked: number;
  /** The current starvation episode: the running items (sorted ids) and since when. */
  starving?: { key: string; since: number; reported: boolean };
}

/** Most worker threads remembered per pool. */
export const MAX_POOL_WORKERS = 256;

/** Most items of one pool tracked one by one (queued items of a huge queue are only counted). */
export const MAX_POOL_ITEMS = 10_000;

/** A lock, queue, pool or futex. */
export interface ResourceState extends Pick<ResourceCreatedEvent, 'kind' | 'library' | 'name' | 'site' | 'capacity' | 'seenByUse'> {
  id: string;
  reentrant: boolean;
  /** The thread that created it (or first mentioned it). */
  pid: number;
  threadId: number;
  createdAt: number;
  /** True until its `resource-created` event arrives (made from a lock event). */
  placeholder: boolean;
  /** Keyed locks: the per-key resources point at the lock. */
  parentId?: string;
  /** Holders by task id. */
  holders: Map<string, HoldState>;
  /** Waiters by task id, in arrival order (FIFO). */
  waiters: Map<string, WaitState>;
  /** Most permits seen held at once (the capacity of a semaphore whose capacity is unknown). */
  maxUsed: number;
  /** Tasks whose hold was stolen (Web Locks `steal`): their own release is still to come. */
  stolenFrom?: Set<string>;
  pool?: PoolState;
}

/** A task (async flow, or a thread acting as a whole) that holds or waits for something. */
export interface TaskState {
  id: string;
  pid: number;
  threadId: number;
  holds: Map<string, HoldState>;
  wait?: WaitState;
}

/** Kinds that are locks (queues and pools are not held or waited for). */
export function isLockKind(kind: ResourceKind): boolean {
  return kind !== 'queue' && kind !== 'pool';
}

/** Kinds where shared holders share (rwlock, Web Locks); others count permits. */
export function isModeKind(kind: ResourceKind): boolean {
  return kind === 'rwlock' || kind === 'web-lock';
}

/** Kinds that live in memory several threads can reach: they survive the exit of one thread. */
export function isSharedKind(kind: ResourceKind): boolean {
  return kind === 'futex' || kind === 'web-lock';
}

/** A lock other processes share (published with an id on `gridlock:lock`): it outlives the process that took it. */
export function isCrossProcess(resourceId: string): boolean {
  return resourceId.startsWith('published:');
}

/** Permits of a resource; a semaphore of unknown capacity counts the most ever held at once. */
export function capacityOf(r: ResourceState): number {
  if (r.kind === 'semaphore') return r.capacity ?? Math.max(1, r.maxUsed);
  return r.kind === 'mutex' || r.kind === 'keyed-lock' || r.kind === 'futex' ? 1 : (r.capacity ?? 1);
}

/** Permits held right now. */
export function usedPermits(r: ResourceState): number {
  let used = 0;
  for (const h of r.holders.values()) used += h.permits;
  return used;
}

/** Two holds conflict unless both are shared. */
export function conflicts(a: LockMode, b: LockMode): boolean {
  return a === 'exclusive' || b === 'exclusive';
}

/** A wait that gives up by itself cannot deadlock. */
export function hasTimeout(w: WaitState): boolean {
  return w.timeoutMs !== null && Number.isFinite(w.timeoutMs);
}

/** The outcome of looking at one wait against a set of tasks assumed stuck. */
export interface WaitVerdict {
  /** True when the wait ends once every task not assumed stuck has moved on. */
  proceed: boolean;
  /** The tasks assumed stuck that stand in its way (the task itself when it blocks itself). */
  blockers: string[];
}

/**
 * Whether `w` can be granted in the end, assuming the tasks for which `stuck` answers true never
 * release anything and every other holder eventually does.
 *
 * - Counting kinds (mutex, semaphore, keyed lock, futex): granted when the free permits plus those
 *   of holders that will release cover the permits asked. Waiters ahead are ignored (they release
 *   too), which errs towards "no deadlock".
 * - Mode kinds (rwlock, Web Locks): an exclusive request needs every holder gone; a shared request
 *   needs every exclusive holder gone and, FIFO as in the Web Locks spec and writer-preferring
 *   rwlocks, the nearest exclusive request queued ahead of it granted.
 * - A task already holding a reentrant resource is always granted. Unknown kinds (a wait on a
 *   queue) are always granted.
 */
export function judgeWait(r: ResourceState, w: WaitState, stuck: (taskId: string) => boolean): WaitVerdict {
  const blockers: string[] = [];
  if (!isLockKind(r.kind) || (r.reentrant && r.holders.has(w.taskId))) return { proceed: true, blockers };
  if (!isModeKind(r.kind)) {
    const need = w.permits;
    let available = capacityOf(r) - usedPermits(r);
    if (available >= need) return { proceed: true, blockers };
    for (const h of r.holders.values()) {
      if (h.taskId !== w.taskId && !stuck(h.taskId)) {
        available += h.permits;
        if (available >= need) return { proceed: true, blockers: [] };
      } else {
        blockers.push(h.taskId);
      }
    }
    return { proceed: false, blockers };
  }
  for (const h of r.holders.values()) {
    if (!conflicts(h.mode, w.mode)) continue;
    if (h.taskId === w.taskId || stuck(h.taskId)) blockers.push(h.taskId);
  }
  if (w.mode === 'shared') {
    const ahead = nearestExclusiveAhead(r, w);
    if (ahead !== undefined && stuck(ahead)) blockers.push(ahead);
  }
  return { proceed: blockers.length === 0, blockers };
}

/**
 * The latest exclusive waiter queued before `w`. Queue order is agent time (`at`), not arrival:
 * waits of different threads reach the host in any order. Equal times keep arrival order.
 */
function nearestExclusiveAhead(r: ResourceState, w: WaitState): string | undefined {
  let found: WaitState | undefined;
  let before = true;
  for (const x of r.waiters.values()) {
    if (x === w) {
      before = false;
      continue;
    }
    if (x.mode !== 'exclusive' || x.at > w.at || (x.at === w.at && !before)) continue;
    if (!found || x.at >= found.at) found = x;
  }
  return found?.taskId;
}

/** Whether a task that holds `hold` can never get `w` on the same resource, whoever else releases. */
export function blocksItself(r: ResourceState, hold: HoldState, w: WaitState): boolean {
  if (r.reentrant || !isLockKind(r.kind)) return false;
  if (isModeKind(r.kind)) return conflicts(hold.mode, w.mode);
  if (r.kind === 'semaphore' && r.capacity === undefined) return false;
  return capacityOf(r) - hold.permits < w.permits;
}
