// threading.Condition → a futex lock plus a wake-up sequence number in a SharedArrayBuffer:
// wait() releases the lock, sleeps in Atomics.wait on the sequence, re-acquires.
import { Worker, isMainThread, threadId, workerData } from 'node:worker_threads';
import { once } from 'node:events';

const LOCK = 0, SEQ = 1;

class Condition {
  readonly cells: Int32Array; // [lock: 0 or holder threadId + 1, sequence]

  constructor(cells: Int32Array = new Int32Array(new SharedArrayBuffer(8))) {
    this.cells = cells;
  }

  acquire(): void {
    for (;;) {
      const holder = Atomics.compareExchange(this.cells, LOCK, 0, threadId + 1);
      if (holder === 0) return;
      Atomics.wait(this.cells, LOCK, holder);
    }
  }

  release(): void {
    if (Atomics.compareExchange(this.cells, LOCK, threadId + 1, 0) !== threadId + 1) throw new Error('cannot release un-acquired lock');
    Atomics.notify(this.cells, LOCK, 1);
  }

  /** wait(timeout): false when the timeout passed; may also wake spuriously, so loop (or waitFor). */
  wait(timeoutMs?: number): boolean {
    const seq = Atomics.load(this.cells, SEQ); // read under the lock: no notify can slip in between
    this.release();
    try {
      const result = timeoutMs === undefined ? Atomics.wait(this.cells, SEQ, seq) : Atomics.wait(this.cells, SEQ, seq, timeoutMs);
      return result !== 'timed-out';
    } finally {
      this.acquire();
    }
  }

  /** wait_for(predicate, timeout): the predicate's final value. */
  waitFor(predicate: () => boolean, timeoutMs = Infinity): boolean {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      this.wait(left === Infinity ? undefined : left);
    }
    return true;
  }

  notify(n = 1): void {
    if (Atomics.load(this.cells, LOCK) !== threadId + 1) throw new Error('cannot notify on un-acquired lock');
    Atomics.add(this.cells, SEQ, 1);
    Atomics.notify(this.cells, SEQ, n);
  }

  notifyAll(): void {
    this.notify(Infinity);
  }
}

/** `with condition:` — released on every path. */
function withLock<T>(condition: Condition, fn: () => T): T {
  condition.acquire();
  try {
    return fn();
  } finally {
    condition.release();
  }
}

// Shared state guarded by the condition's lock: [available, done, taken, sum, ...stack]
const AVAILABLE = 0, DONE = 1, TAKEN = 2, SUM = 3, STACK = 4;

function ${1:consume}(value: number, state: Int32Array): void {
  state[TAKEN] += 1;
  state[SUM] += value;$0
}

async function main(): Promise<void> {
  const condition = new Condition();
  const state = new Int32Array(new SharedArrayBuffer(4 * (STACK + 8)));
  const consumers = Array.from({ length: ${2:2} }, () => new Worker(__filename, { workerData: { cells: condition.cells, state } }));
  for (let value = 1; value <= 6; value++) {
    withLock(condition, () => {
      state[STACK + state[AVAILABLE]] = value;
      state[AVAILABLE] += 1;
      condition.notify(); // one item: wake one consumer
    });
  }
  withLock(condition, () => {
    state[DONE] = 1;
    condition.notifyAll(); // no more items: wake everyone so they can finish
  });
  await Promise.all(consumers.map((consumer) => once(consumer, 'exit')));
  console.log(`consumers took ${state[TAKEN]} items, sum ${state[SUM]}`);
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { cells, state } = workerData as { cells: Int32Array; state: Int32Array };
  const condition = new Condition(cells);
  for (;;) {
    const more = withLock(condition, () => {
      condition.waitFor(() => state[AVAILABLE] > 0 || state[DONE] === 1);
      if (state[AVAILABLE] === 0) return false; // done and drained
      state[AVAILABLE] -= 1;
      $1(state[STACK + state[AVAILABLE]], state);
      return true;
    });
    if (!more) break;
  }
}
