import type { SourceSite, StackFrames } from './agentEvents';

/**
 * Events about locks, queues and pools (the locks issue). Sent by the agent in the same hub lines
 * as the thread events. Ids are unique in the whole process tree:
 * - resources: `<pid>:<threadId>:r<n>`; Web Locks (shared by the threads of a process):
 *   `weblock:<pid>:<name>`; futexes: `futex:<SharedBufferRef.id>:<byteOffset>` (the id of the buffer
 *   as the thread that first saw it named it; see `SharedBufferRef.label` for mapping across threads);
 * - locks and queues a program publishes with a shared id (publishedResources.ts): `published:<id>`,
 *   the same in every thread and process. The agent writes every event of a Web Lock or of a
 *   `published:` resource the moment it happens, so their order in the hub is their real order;
 * - tasks (async flows): `<pid>:<threadId>:t<n>`; a thread acting as a whole (futexes, sync code):
 *   `thread:<pid>:<threadId>`.
 */

/** What kind of thing a resource is. */
export type ResourceKind = 'mutex' | 'semaphore' | 'rwlock' | 'keyed-lock' | 'web-lock' | 'futex' | 'queue' | 'pool';

/** How a lock is requested. */
export type LockMode = 'exclusive' | 'shared';

/** A resource was created (or first seen). */
export interface ResourceCreatedEvent {
  type: 'resource-created';
  ts: number;
  resourceId: string;
  kind: ResourceKind;
  /** Library and version: `async-mutex@0.5.0`, `web-locks`, `atomics`. */
  library: string;
  /** The variable or property it was assigned to, the Web Lock name, or the key; else `<kind> #n`. */
  name: string;
  site?: SourceSite;
  /** Permits of a semaphore, concurrency of a queue, workers of a pool. 1 for a mutex. */
  capacity?: number;
  /** True when the same task may take it again while holding it. */
  reentrant?: boolean;
  /**
   * True when this thread met it in use, not at its creation (a lock or queue shared by id that
   * another thread made): its name and site are guesses that the creating thread's event replaces.
   */
  seenByUse?: boolean;
}

/** A task began waiting for a resource. */
export interface LockWaitEvent {
  type: 'lock-wait';
  ts: number;
  resourceId: string;
  taskId: string;
  mode?: LockMode;
  /** async-lock key(s), Web Lock name. */
  key?: string;
  /** Semaphore permits asked for (default 1). */
  permits?: number;
  /** A wait that gives up by itself (withTimeout, ifAvailable, AbortSignal timeout) cannot deadlock. */
  timeoutMs?: number | null;
  site?: SourceSite;
  stack?: StackFrames;
}

/** A task now holds a resource (after waiting, or at once). */
export interface LockAcquiredEvent {
  type: 'lock-acquired';
  ts: number;
  resourceId: string;
  taskId: string;
  mode?: LockMode;
  key?: string;
  permits?: number;
  site?: SourceSite;
  stack?: StackFrames;
  /** Taken by force (Web Locks `steal`): every other holder lost it now; their later releases are no news. */
  steal?: boolean;
}

/** A hold ended. `taskId` is the task that released; `holderTaskId` the task that held, when they differ. */
export interface LockReleasedEvent {
  type: 'lock-released';
  ts: number;
  resourceId: string;
  taskId: string;
  holderTaskId?: string;
  key?: string;
  permits?: number;
  site?: SourceSite;
}

/**
 * A wait ended without the resource. `unlocked`: a wait for the lock to become free that does not
 * take it (async-mutex `waitForUnlock`) saw it free.
 */
export interface LockWaitEndedEvent {
  type: 'lock-wait-ended';
  ts: number;
  resourceId: string;
  taskId: string;
  reason: 'timeout' | 'cancelled' | 'aborted' | 'unavailable' | 'error' | 'unlocked';
}

/** Counters of a queue or pool (sent on change, throttled). */
export interface QueueStatsEvent {
  type: 'queue-stats';
  ts: number;
  resourceId: string;
  /** Items waiting to run. */
  size: number;
  /** Items running. */
  running: number;
  concurrency: number;
  paused: boolean;
  completed: number;
  /** Age of the oldest waiting item in ms, 0 when none waits. */
  oldestWaitMs: number;
  /** A worker-thread pool: the thread ids (in the sender's process) of its live workers, when the library shows them. */
  workers?: number[];
}

/** An item of a queue or pool changed state. */
export interface PoolTaskEvent {
  type: 'pool-task';
  ts: number;
  resourceId: string;
  /** The item, as a task id. */
  taskId: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  /** The task that submitted it (a task waiting on work queued behind it in its own pool starves). */
  submittedBy?: string;
  /** Pools with worker threads: the worker running it. */
  workerThreadId?: number;
  site?: SourceSite;
}

/** Every resource event. */
export type ResourceEvent = ResourceCreatedEvent | LockWaitEvent | LockAcquiredEvent | LockReleasedEvent | LockWaitEndedEvent | QueueStatsEvent | PoolTaskEvent;
