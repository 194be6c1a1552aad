import type { PoolTaskEvent, QueueStatsEvent } from '../protocol/resourceEvents';
import type { PoolItemState, PoolState, ResourceState } from './resourceState';
import { MAX_POOL_ITEMS, MAX_POOL_WORKERS } from './resourceState';

/** A new, empty pool state. */
export function newPool(): PoolState {
  return { items: new Map(), bySubmitter: new Map(), workers: new Set(), untracked: 0 };
}

/** Applies a `queue-stats` event. */
export function applyQueueStats(pool: PoolState, e: QueueStatsEvent, now: number): void {
  pool.counters = { size: e.size, running: e.running, concurrency: e.concurrency, paused: e.paused, completed: e.completed, oldestWaitMs: e.oldestWaitMs, at: now };
  if (Array.isArray(e.workers)) pool.workers = new Set(e.workers.filter((id) => Number.isInteger(id)).slice(0, MAX_POOL_WORKERS));
}

/** Applies a `pool-task` event from thread `threadId` of `pid`. */
export function applyPoolTask(pool: PoolState, e: PoolTaskEvent, pid: number, threadId: number, now: number): void {
  const old = pool.items.get(e.taskId);
  if (old) unindex(pool, old);
  if (e.state === 'done' || e.state === 'failed') {
    if (old) pool.items.delete(e.taskId);
    else if (pool.untracked > 0) pool.untracked--;
    return;
  }
  if (!old && pool.items.size >= MAX_POOL_ITEMS && e.state === 'queued') {
    pool.untracked++;
    return;
  }
  if (!old && e.state === 'running' && pool.untracked > 0) pool.untracked--;
  const item: PoolItemState = old ?? { taskId: e.taskId, state: e.state, pid, threadId, since: now };
  if (old && old.state !== e.state) item.since = now;
  item.state = e.state;
  if (e.submittedBy !== undefined) item.submittedBy = e.submittedBy;
  if (e.workerThreadId !== undefined) {
    item.workerThreadId = e.workerThreadId;
    if (pool.workers.size < MAX_POOL_WORKERS) pool.workers.add(e.workerThreadId);
  }
  if (e.site !== undefined) item.site = e.site;
  pool.items.set(e.taskId, item);
  if (item.state === 'queued' && item.submittedBy !== undefined) {
    let set = pool.bySubmitter.get(item.submittedBy);
    if (!set) pool.bySubmitter.set(item.submittedBy, (set = new Set()));
    set.add(item.taskId);
  }
}

function unindex(pool: PoolState, item: PoolItemState): void {
  if (item.submittedBy === undefined) return;
  const set = pool.bySubmitter.get(item.submittedBy);
  if (!set) return;
  set.delete(item.taskId);
  if (set.size === 0) pool.bySubmitter.delete(item.submittedBy);
}

/** A pool whose every slot is taken by an item that waits for work queued behind it. */
export interface Starvation {
  /** Running items, sorted by id. */
  running: PoolItemState[];
  /** For each running item (same order), the queued items it submitted. */
  queuedBehind: PoolItemState[][];
  concurrency: number;
  /** Sorted running ids: the same set of running items is the same episode. */
  key: string;
}

/**
 * Whether a pool starves right now: it is not paused, it has a known concurrency, every slot is
 * taken by a running item we track (no unknown item that may finish), and every running item has
 * submitted an item still queued in the same pool. The agent cannot see whether a running item
 * awaits what it submitted, so the host waits for the condition to hold for a while (or for the
 * pool's thread to exit) before it calls it starvation.
 */
export function starvationOf(r: ResourceState): Starvation | undefined {
  const pool = r.pool;
  if (!pool || pool.counters?.paused) return undefined;
  const concurrency = pool.counters?.concurrency ?? r.capacity;
  if (concurrency === undefined || !Number.isFinite(concurrency) || concurrency <= 0) return undefined;
  const running: PoolItemState[] = [];
  for (const item of pool.items.values()) if (item.state === 'running') running.push(item);
  if (running.length < concurrency) return undefined;
  if (pool.counters && pool.counters.running > running.length) return undefined;
  running.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
  const queuedBehind: PoolItemState[][] = [];
  for (const item of running) {
    const queued = [...(pool.bySubmitter.get(item.taskId) ?? [])].map((id) => pool.items.get(id)).filter((q): q is PoolItemState => q?.state === 'queued');
    if (queued.length === 0) return undefined;
    queuedBehind.push(queued);
  }
  return { running, queuedBehind, concurrency, key: running.map((i) => i.taskId).join(',') };
}
