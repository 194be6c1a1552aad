// threading.Barrier → a generation counter in a SharedArrayBuffer: the last thread to arrive
// bumps it and Atomics.notify wakes the others; a timeout breaks the barrier for everyone.
import { Worker, isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { once } from 'node:events';

class BrokenBarrierError extends Error {
  override name = 'BrokenBarrierError';
}

const LOCK = 0, COUNT = 1, GENERATION = 2, BROKEN = 3;

class Barrier {
  readonly parties: number;
  readonly cells: Int32Array; // [lock, arrived, generation, broken]

  constructor(parties: number, cells: Int32Array = new Int32Array(new SharedArrayBuffer(16))) {
    this.parties = parties;
    this.cells = cells;
  }

  /** wait(timeout): this thread's arrival index (0 … parties-1), once all parties have arrived. */
  wait(timeoutMs?: number): number {
    const c = this.cells;
    this.#lock();
    let generation: number;
    let index: number;
    try {
      if (c[BROKEN]) throw new BrokenBarrierError();
      generation = c[GENERATION];
      index = c[COUNT]++;
      if (c[COUNT] === this.parties) {
        c[COUNT] = 0;
        Atomics.add(c, GENERATION, 1); // the last one in opens the barrier for this round
        Atomics.notify(c, GENERATION);
        return index;
      }
    } finally {
      this.#unlock();
    }
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    while (Atomics.load(c, GENERATION) === generation) {
      if (Atomics.load(c, BROKEN)) throw new BrokenBarrierError();
      const left = deadline - Date.now();
      if (left <= 0) {
        this.abort();
        throw new BrokenBarrierError();
      }
      if (left === Infinity) Atomics.wait(c, GENERATION, generation);
      else Atomics.wait(c, GENERATION, generation, left);
    }
    return index;
  }

  /** abort(): puts the barrier in the broken state; every waiter gets BrokenBarrierError. */
  abort(): void {
    Atomics.store(this.cells, BROKEN, 1);
    Atomics.notify(this.cells, GENERATION);
  }

  #lock(): void {
    for (;;) {
      const holder = Atomics.compareExchange(this.cells, LOCK, 0, threadId + 1);
      if (holder === 0) return;
      Atomics.wait(this.cells, LOCK, holder);
    }
  }

  #unlock(): void {
    Atomics.store(this.cells, LOCK, 0);
    Atomics.notify(this.cells, LOCK, 1);
  }
}

function ${1:phase1}(slot: number, results: Int32Array): void {
  results[slot] = slot + 1;$0
}

async function main(): Promise<void> {
  const parties = ${2:3};
  const barrier = new Barrier(parties);
  const results = new Int32Array(new SharedArrayBuffer(4 * parties));
  const threads = Array.from({ length: parties }, (_, slot) => new Worker(__filename, { workerData: { parties, cells: barrier.cells, results, slot } }));
  const replies = await Promise.all(threads.map(async (thread) => (await once(thread, 'message'))[0] as { index: number; seen: number }));
  console.log(`after wait() every thread sees all phase-1 results: ${replies.map((r) => r.seen).join(',')}`);
  console.log(`wait() returned the arrival indexes: ${replies.map((r) => r.index).sort().join(',')}`);

  const lonely = new Barrier(2);
  try {
    lonely.wait(50); // the other party never comes
  } catch (error) {
    console.log(`wait(timeout=0.05) with a party missing -> ${(error as Error).name}`);
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { parties, cells, results, slot } = workerData as { parties: number; cells: Int32Array; results: Int32Array; slot: number };
  const barrier = new Barrier(parties, cells);
  $1(slot, results);
  const index = barrier.wait(5000);
  parentPort?.postMessage({ index, seen: results.reduce((sum, value) => sum + value, 0) });
}
