// threading.Semaphore / BoundedSemaphore → a counting semaphore in a SharedArrayBuffer:
// Atomics.compareExchange takes a permit, Atomics.wait sleeps while there is none.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { once } from 'node:events';

const VALUE = 0, INITIAL = 1;

class Semaphore {
  readonly cells: Int32Array; // [value, initial value]

  constructor(value = 1, cells: Int32Array = new Int32Array(new SharedArrayBuffer(8))) {
    this.cells = cells;
    if (cells[INITIAL] === 0) {
      cells[VALUE] = value;
      cells[INITIAL] = value;
    }
  }

  acquire(blocking = true, timeoutMs = -1): boolean {
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const value = Atomics.load(this.cells, VALUE);
      if (value > 0) {
        if (Atomics.compareExchange(this.cells, VALUE, value, value - 1) === value) return true;
        continue; // another thread took it first: retry
      }
      const left = deadline - Date.now();
      if (!blocking || left <= 0) return false;
      if (left === Infinity) Atomics.wait(this.cells, VALUE, 0);
      else Atomics.wait(this.cells, VALUE, 0, left);
    }
  }

  release(n = 1): void {
    Atomics.add(this.cells, VALUE, n);
    Atomics.notify(this.cells, VALUE, n);
  }
}

/** BoundedSemaphore: releasing more than was acquired is an error (Python's ValueError). */
class BoundedSemaphore extends Semaphore {
  override release(n = 1): void {
    for (;;) {
      const value = Atomics.load(this.cells, VALUE);
      if (value + n > this.cells[INITIAL]) throw new Error('Semaphore released too many times');
      if (Atomics.compareExchange(this.cells, VALUE, value, value + n) === value) break;
    }
    Atomics.notify(this.cells, VALUE, n);
  }
}

function ${1:work}(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // a blocking 100 ms job$0
}

async function main(): Promise<void> {
  const semaphore = new BoundedSemaphore(${2:2});
  const stats = new Int32Array(new SharedArrayBuffer(12)); // [inside now, most inside at once, ready]
  const count = 4;
  const threads = Array.from({ length: count }, () => new Worker(__filename, { workerData: { cells: semaphore.cells, stats, count } }));
  await Promise.all(threads.map((thread) => once(thread, 'exit')));
  console.log(`${count} threads, BoundedSemaphore(${semaphore.cells[INITIAL]}): at most ${stats[1]} inside at once`);
  try {
    semaphore.release();
  } catch (error) {
    console.log(`release() beyond the initial value -> ${(error as Error).message}`);
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { cells, stats, count } = workerData as { cells: Int32Array; stats: Int32Array; count: number };
  const semaphore = new BoundedSemaphore(0, cells);
  // Start together, so the threads really compete for the permits.
  if (Atomics.add(stats, 2, 1) + 1 === count) Atomics.notify(stats, 2);
  for (let ready = Atomics.load(stats, 2); ready < count; ready = Atomics.load(stats, 2)) Atomics.wait(stats, 2, ready);
  semaphore.acquire();
  try {
    const inside = Atomics.add(stats, 0, 1) + 1;
    for (let most = Atomics.load(stats, 1); inside > most; most = Atomics.load(stats, 1)) {
      if (Atomics.compareExchange(stats, 1, most, inside) === most) break;
    }
    $1();
    Atomics.sub(stats, 0, 1);
  } finally {
    semaphore.release();
  }
}
