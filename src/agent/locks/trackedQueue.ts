/**
 * One tracked queue or pool, as the adapters (queues.ts, pools.ts, published.ts) report it:
 * `resource-created` (kind queue or pool, with capacity), `pool-task` items (queued → running →
 * done | failed, `submittedBy` the task that submitted it) and `queue-stats` (on change, at most every
 * {@link STATS_EVERY_MS} per resource, the last change always sent by an unref'd timer). Items are
 * reported one by one for the first {@link DETAILED_ITEMS} of each queue; after that only the
 * counters are (a queue of millions of items must not flood the hub).
 */
import type { SourceSite, StackFrames } from '../../protocol/agentEvents';
import type { ResourceEvent } from '../../protocol/resourceEvents';
import type { LockTracker, Resource } from './tracker';
import type { QueueItem } from './waitingItems';
import { WaitingItems } from './waitingItems';

const DETAILED_ITEMS = 256;
const STATS_EVERY_MS = 100;

/** An adapter: patches a library's exports, or says what to replace them with; false when the shape is unknown. */
export type QueueAdopter = (exports: unknown, library: string, tracker: LockTracker) => boolean | { replace: unknown } | { replaceDefault: unknown };

/** The timers the agent took at start-up (the program may patch the globals). */
export interface AgentTimers {
  setTimeout: (fn: () => void, ms: number) => { unref(): unknown };
}

/** A finite number, else `fallback`. */
export const finiteNumber = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
export class TrackedQueue {
  readonly resource: Resource;
  private nextItem = 0;
  /** Waiting items in queue order. */
  private readonly waiting = new WaitingItems();
  running = 0;
  completed = 0;
  private lastStats = 0;
  private statsTimer: { unref(): unknown } | undefined;
  private lastSent = '';

  constructor(
    private readonly tracker: LockTracker,
    kind: 'queue' | 'pool',
    library: string,
    site: SourceSite | StackFrames | undefined,
    capacity: number | undefined,
    /** The library's own counters; a worker-thread pool also gives the thread ids of its workers. */
    private readonly read: () => { concurrency: number; paused: boolean; workers?: number[] },
    private readonly timers: AgentTimers,
    /** `name`: instead of the creating line's; `id`: a resource id shared with other threads. */
    identity: { name?: string; id?: string } = {},
  ) {
    // A stack: the creating call (named by its line); a site: the first use (named by the receiver).
    const named = { ...(identity.name !== undefined ? { name: identity.name } : {}), ...(identity.id !== undefined ? { id: identity.id } : {}) };
    this.resource = Array.isArray(site) ? tracker.createResource({ kind, library, creation: site, capacity, ...named }) : tracker.createResource({ kind, library, useSite: site as SourceSite | undefined, capacity, ...named });
    tracker.announce(this.resource);
  }

  private emit(event: ResourceEvent): void {
    this.tracker.emit(event);
  }

  /** An item was submitted; returns its id. `front`: it runs before the others (unshift); `site`: where, when the caller knows better. */
  queued(front = false, site?: SourceSite): QueueItem {
    const detailed = this.nextItem < DETAILED_ITEMS;
    const item: QueueItem = { id: `${this.resource.id}:i${++this.nextItem}`, ts: this.tracker.context.now(), detailed, waiting: false };
    this.waiting.add(item, front);
    if (detailed) {
      const event: ResourceEvent = { type: 'pool-task', ts: item.ts, resourceId: this.resource.id, taskId: item.id, state: 'queued' };
      const by = this.tracker.tasks.peek();
      if (by !== undefined) event.submittedBy = by.id;
      const where = site ?? this.tracker.site();
      if (where) event.site = where;
      this.emit(event);
    }
    this.stats();
    return item;
  }

  /** The item (or, without one, the next waiting item) started; in a pool, on the worker `workerThreadId` when known. */
  started(item?: QueueItem, workerThreadId?: number): QueueItem | undefined {
    let started: QueueItem | undefined;
    if (item === undefined) {
      started = this.waiting.first();
      if (started === undefined) return undefined;
      this.waiting.delete(started);
    } else {
      if (!this.waiting.delete(item)) return item; // already running
      started = item;
    }
    this.running++;
    if (started.detailed) {
      const event: ResourceEvent = { type: 'pool-task', ts: this.tracker.context.now(), resourceId: this.resource.id, taskId: started.id, state: 'running' };
      if (workerThreadId !== undefined) event.workerThreadId = workerThreadId;
      this.emit(event);
    }
    this.stats();
    return started;
  }

  finished(item: QueueItem | undefined, failed: boolean): void {
    const neverRan = item !== undefined && this.waiting.delete(item);
    if (!neverRan) this.running = Math.max(0, this.running - 1);
    this.completed++;
    if (item?.detailed) this.emit({ type: 'pool-task', ts: this.tracker.context.now(), resourceId: this.resource.id, taskId: item.id, state: failed ? 'failed' : 'done' });
    this.stats();
  }

  /** Items that will never run (cleared). */
  dropWaiting(): void {
    this.waiting.clear();
    this.stats();
  }

  stats(): void {
    // A send is already due (at most STATS_EVERY_MS after the last one): a busy queue reads no clock.
    if (this.statsTimer !== undefined) return;
    const now = this.tracker.context.now();
    if (now - this.lastStats < STATS_EVERY_MS) {
      try {
        this.statsTimer = this.timers.setTimeout(this.sendLate, STATS_EVERY_MS);
        this.statsTimer.unref();
        // The timer is unref'd (it must not keep the program alive): an exit sends the last counters.
        this.tracker.context.flushAtExit.add(this.sendLate);
      } catch {
        this.statsTimer = undefined;
      }
      return;
    }
    this.sendStats();
  }

  private readonly sendLate = (): void => {
    this.statsTimer = undefined;
    this.tracker.context.flushAtExit.delete(this.sendLate);
    this.sendStats();
  };

  /**
   * Counters the program reports itself (a queue in shared memory, whose items this thread cannot
   * follow one by one): they replace the counted ones from now on.
   */
  reported: { size: number; running: number } | undefined;

  private sendStats(): void {
    try {
      const now = this.tracker.context.now();
      this.lastStats = now;
      const { concurrency, paused, workers } = this.read();
      const oldest = this.reported === undefined ? this.waiting.first() : undefined;
      const event: ResourceEvent = { type: 'queue-stats', ts: now, resourceId: this.resource.id, size: this.reported?.size ?? this.waiting.size, running: this.reported?.running ?? this.running, concurrency, paused, completed: this.completed, oldestWaitMs: oldest ? Math.round(now - oldest.ts) : 0 };
      if (workers !== undefined) event.workers = workers;
      const key = `${event.size}:${event.running}:${concurrency}:${paused}:${event.completed}:${workers?.join(',') ?? ''}`;
      if (key === this.lastSent) return;
      this.lastSent = key;
      this.emit(event);
    } catch {
      // never into the program
    }
  }
}
