// threading.RLock → a re-entrant futex lock in a SharedArrayBuffer: [owner threadId + 1, depth].
import { Worker, isMainThread, threadId, workerData } from 'node:worker_threads';
import { once } from 'node:events';

const OWNER = 0, DEPTH = 1;

class RLock {
  readonly cells: Int32Array;

  constructor(cells: Int32Array = new Int32Array(new SharedArrayBuffer(8))) {
    this.cells = cells;
  }

  acquire(blocking = true, timeoutMs = -1): boolean {
    const me = threadId + 1;
    if (Atomics.load(this.cells, OWNER) === me) {
      this.cells[DEPTH] += 1; // only the owner touches the depth
      return true;
    }
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const holder = Atomics.compareExchange(this.cells, OWNER, 0, me);
      if (holder === 0) break;
      const left = deadline - Date.now();
      if (!blocking || left <= 0) return false;
      if (left === Infinity) Atomics.wait(this.cells, OWNER, holder);
      else Atomics.wait(this.cells, OWNER, holder, left);
    }
    this.cells[DEPTH] = 1;
    return true;
  }

  release(): void {
    if (Atomics.load(this.cells, OWNER) !== threadId + 1) throw new Error('cannot release un-acquired lock');
    if (--this.cells[DEPTH] > 0) return;
    Atomics.store(this.cells, OWNER, 0);
    Atomics.notify(this.cells, OWNER, 1);
  }
}

/** `with rlock:` — released on every path. */
function withLock<T>(lock: RLock, fn: () => T): T {
  lock.acquire();
  try {
    return fn();
  } finally {
    lock.release();
  }
}

// Both functions take the lock; ${1:transfer} calls deposit while holding it: fine for an RLock,
// a plain Lock would wait for itself forever (see py-deadlock-rlock).
function deposit(lock: RLock, balance: Int32Array, amount: number): void {
  withLock(lock, () => {
    balance[0] = balance[0] + amount;
  });
}

function $1(lock: RLock, balance: Int32Array): void {
  withLock(lock, () => {
    deposit(lock, balance, 1);$0
  });
}

async function main(): Promise<void> {
  const shared = new Int32Array(new SharedArrayBuffer(12)); // [owner, depth, balance]
  const lock = new RLock(shared.subarray(0, 2));
  const threads = Array.from({ length: ${2:2} }, () => new Worker(__filename, { workerData: { shared, times: 1000 } }));
  await Promise.all(threads.map((thread) => once(thread, 'exit')));
  console.log(`balance = ${shared[2]} (${threads.length} threads x 1000, the lock taken twice each time)`);
  try {
    lock.release();
  } catch (error) {
    console.log(`release() by a thread that does not own it -> ${(error as Error).message}`);
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { shared, times } = workerData as { shared: Int32Array; times: number };
  const lock = new RLock(shared.subarray(0, 2));
  for (let i = 0; i < times; i++) $1(lock, shared.subarray(2));
}
