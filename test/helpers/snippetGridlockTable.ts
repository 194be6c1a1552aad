// What `gridlock run` must report for each snippet's default expansion (JavaScript and TypeScript
// alike): the locks, queues and pools it shows, the worker threads and child processes running
// the snippet's file, and the finding of the teaching deadlocks (none for every other snippet).

/** A resource the report must list. */
export interface ExpectedResource {
  kind: 'mutex' | 'semaphore' | 'queue' | 'pool' | 'futex';
  /** The report's name: the variable the creating line assigns, or the name published. */
  name?: string;
  /** Permits (a mutex: 1) or, for a pool, its workers. */
  capacity?: number;
  /** Items of a queue or pool that ended (done, failed or cancelled): every item it took. */
  completed?: number;
  /** A pool: how many of the snippet's worker threads ran its items (the report's workerThreadIds). */
  workers?: number;
  /** It may be missing: a futex taken without contention can go unseen. */
  optional?: true;
}

/** The finding of a teaching snippet: its kind and the lines of its participants, by their code. */
export interface ExpectedFinding {
  kind: 'deadlock' | 'self-deadlock';
  /** Text of the line each waiting participant waits at. */
  waitsAt: string;
  /** Text of the line each holding participant took its lock at. */
  holdsAt: string;
  /** How many participants wait (a two-task deadlock: 2; a self-deadlock: 1). */
  waiters: number;
}

export interface GridlockExpectation {
  resources: ExpectedResource[];
  /** Worker threads running the snippet's file (in all its processes). */
  threads: number;
  /** Child processes running the snippet's file. */
  processes: number;
  /** A teaching snippet: exactly this finding, and gridlock exits with 86. */
  finding?: ExpectedFinding;
}

const none = (threads = 0, processes = 0): GridlockExpectation => ({ resources: [], threads, processes });

/** By py- prefix. Library: 'atomics' for a futex, 'diagnostics_channel' (published) for the others. */
export const snippetsUnderGridlock: Record<string, GridlockExpectation> = {
  // multiprocessing
  'py-mp-process': none(0, 3),
  'py-mp-process-subclass': none(0, 1),
  'py-mp-pool': { threads: 2, processes: 0, resources: [{ kind: 'pool', name: 'pool', capacity: 2, completed: 13, workers: 2 }] },
  // The queue itself is not published: 'gridlock:queue' has no shared id for a queue that several threads use.
  'py-mp-queue': { threads: 2, processes: 0, resources: [{ kind: 'futex' }, { kind: 'queue', name: 'q' }] },
  'py-mp-joinable-queue': { threads: 2, processes: 0, resources: [{ kind: 'futex' }, { kind: 'queue', name: 'q' }] },
  'py-mp-pipe': none(1, 0),
  'py-mp-lock': { threads: 0, processes: 3, resources: [{ kind: 'mutex', name: 'shared', capacity: 1 }] },
  'py-mp-semaphore': { threads: 0, processes: 4, resources: [{ kind: 'semaphore', name: 'shared', capacity: 2 }] },
  'py-mp-event': none(0, 3),
  'py-mp-condition': { threads: 0, processes: 2, resources: [{ kind: 'mutex', name: 'lock', capacity: 1 }] },
  'py-mp-manager-queue': { threads: 0, processes: 3, resources: [{ kind: 'queue', name: 'queue', completed: 6 }] },
  'py-mp-cpu-count': none(0, 2),
  // threading
  'py-threading-thread': none(2, 0),
  'py-threading-lock': { threads: 4, processes: 0, resources: [{ kind: 'futex' }] },
  'py-threading-rlock': { threads: 2, processes: 0, resources: [{ kind: 'futex' }] },
  'py-threading-condition': { threads: 2, processes: 0, resources: [{ kind: 'futex' }] },
  'py-threading-semaphore': { threads: 4, processes: 0, resources: [{ kind: 'semaphore', name: 'semaphore', capacity: 2 }] },
  'py-threading-event': none(3, 0),
  'py-threading-timer': none(),
  'py-threading-barrier': { threads: 3, processes: 0, resources: [{ kind: 'futex', optional: true }] },
  'py-threading-local': none(1, 0),
  'py-threading-enumerate': none(2, 0),
  'py-threading-excepthook': none(2, 0),
  // concurrent.futures
  'py-cf-thread-pool': { threads: 3, processes: 0, resources: [{ kind: 'pool', name: 'executor', capacity: 3, completed: 13, workers: 3 }] },
  'py-cf-process-pool': { threads: 0, processes: 2, resources: [{ kind: 'pool', name: 'executor', capacity: 2, completed: 15 }] },
  'py-cf-as-completed': none(),
  // asyncio
  'py-asyncio-gather': none(),
  'py-asyncio-wait': none(),
  'py-asyncio-create-task': none(),
  'py-asyncio-sleep': none(),
  'py-asyncio-queue': { threads: 0, processes: 0, resources: [{ kind: 'queue', name: 'queue', completed: 12 }] },
  'py-asyncio-lock': { threads: 0, processes: 0, resources: [{ kind: 'mutex', name: 'lock', capacity: 1 }] },
  'py-asyncio-semaphore': { threads: 0, processes: 0, resources: [{ kind: 'semaphore', name: 'semaphore', capacity: 2 }] },
  'py-asyncio-event': none(),
  'py-asyncio-timeout': none(),
  'py-generator-coroutine': none(),
  'py-gevent': none(),
  // the teaching deadlocks
  'py-deadlock-demo': {
    threads: 2,
    processes: 0,
    resources: [{ kind: 'futex' }, { kind: 'futex' }],
    finding: { kind: 'deadlock', waitsAt: 'Atomics.wait(cells, lock, holder);', holdsAt: 'Atomics.compareExchange(cells, lock, 0, threadId + 1)', waiters: 2 },
  },
  'py-deadlock-rlock': {
    threads: 1,
    processes: 0,
    resources: [{ kind: 'futex' }],
    finding: { kind: 'self-deadlock', waitsAt: 'Atomics.wait(this.cells, 0, holder);', holdsAt: 'Atomics.compareExchange(this.cells, 0, 0, threadId + 1)', waiters: 1 },
  },
  'py-deadlock-async': {
    threads: 0,
    processes: 0,
    resources: [
      { kind: 'mutex', name: 'lock A', capacity: 1 },
      { kind: 'mutex', name: 'lock B', capacity: 1 },
    ],
    finding: { kind: 'deadlock', waitsAt: 'await second.acquire();', holdsAt: 'await first.acquire();', waiters: 2 },
  },
};
