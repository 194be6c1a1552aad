/**
 * Locks, queues and pools a program writes itself, made visible to Gridlock by publishing on
 * `node:diagnostics_channel` — Node's own way for code to report what it does, free while nobody
 * subscribes (`channel.hasSubscribers` is false without Gridlock). The agent subscribes in every
 * thread; what is published becomes the same resource events as a tracked library's.
 *
 * ```js
 * const dc = require('node:diagnostics_channel');
 * const lockChannel = dc.channel('gridlock:lock');
 * class Mutex {
 *   constructor() { lockChannel.publish({ op: 'create', lock: this, kind: 'mutex' }); }
 *   async acquire() {
 *     if (this.locked) { lockChannel.publish({ op: 'wait', lock: this }); await this.#turn(); }
 *     this.locked = true;
 *     lockChannel.publish({ op: 'acquired', lock: this });
 *   }
 *   release() { this.locked = false; lockChannel.publish({ op: 'release', lock: this }); … }
 * }
 * ```
 *
 * Rules the agent relies on:
 * - publish from the method the program calls (`acquire`, `release`, `submit`): the site of an
 *   event is the line that called the publishing function, and the resource is named after the
 *   variable the creating line assigns (`const ledger = new Mutex()` → `ledger`) unless `name` says;
 * - the holder and the waiter is the publishing async flow (a task), as for async-mutex;
 * - a lock shared by several threads or processes gives the same `id` everywhere it is published;
 *   without `id` a lock is the object `lock` in its own thread;
 * - malformed messages are ignored (they never throw into the publisher).
 */

/** The channel names. */
export const PUBLISHED_LOCK_CHANNEL = 'gridlock:lock';
export const PUBLISHED_QUEUE_CHANNEL = 'gridlock:queue';

/** What a published lock identifies itself by: the object (one thread), or it and a shared `id`. */
interface PublishedLockRef {
  lock: object;
  /** The same string in every thread and process that uses this lock (e.g. `mp.Lock 4711#1`). */
  id?: string;
}

/** Messages on {@link PUBLISHED_LOCK_CHANNEL}. */
export type PublishedLockMessage = PublishedLockRef &
  (
    | {
        op: 'create';
        /** 'mutex' unless said (a semaphore has `capacity` permits). */
        kind?: 'mutex' | 'semaphore' | 'rwlock';
        name?: string;
        capacity?: number;
        /** The same task may take it again while holding it (an RLock). */
        reentrant?: boolean;
      }
    /** The calling task starts waiting. `timeoutMs`: the wait gives up by itself (cannot deadlock). */
    | { op: 'wait'; permits?: number; mode?: 'exclusive' | 'shared'; timeoutMs?: number }
    /** The calling task now holds it (after a wait, or at once). */
    | { op: 'acquired'; permits?: number; mode?: 'exclusive' | 'shared' }
    /** The calling task's wait ended without the lock. */
    | { op: 'wait-ended'; reason?: 'timeout' | 'cancelled' | 'aborted' }
    /** The calling task released its hold (a semaphore: `permits` of it). */
    | { op: 'release'; permits?: number }
  );

/** What a published queue or pool identifies itself by, and an item by (any value, compared with `===`). */
interface PublishedQueueRef {
  queue: object;
  /** A queue in shared memory used by several threads: the same string in each (its `create` comes from one of them). */
  id?: string;
}

/** Messages on {@link PUBLISHED_QUEUE_CHANNEL}. */
export type PublishedQueueMessage = PublishedQueueRef &
  (
    | {
        op: 'create';
        /** 'queue' unless said; a pool runs its items on worker threads. */
        kind?: 'queue' | 'pool';
        name?: string;
        /** How many items may run at once (a pool: its workers). */
        concurrency?: number;
      }
    /** An item was submitted by the calling task. */
    | { op: 'enqueue'; item: unknown }
    /** An item started; in a pool, on the worker with `workerThreadId`. */
    | { op: 'start'; item: unknown; workerThreadId?: number }
    /** An item ended. */
    | { op: 'done'; item: unknown; failed?: boolean }
    /** The queue stopped or resumed taking items out. */
    | { op: 'pause' | 'resume' }
    /** The counters, as the program reads them (a shared-memory queue): items waiting and running. */
    | { op: 'stats'; size: number; running?: number }
  );
