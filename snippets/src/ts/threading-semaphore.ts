// threading.Semaphore / BoundedSemaphore → a counting semaphore in a SharedArrayBuffer:
// Atomics.compareExchange takes a permit, Atomics.wait sleeps while there is none.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { once } from 'node:events';

// Publishing on diagnostics_channel makes a home-made semaphore visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. Every thread publishes
// its own waits, holds and releases, with the same `id`: pass it to the threads with the cells.
const lockChannel = channel('gridlock:lock');

const VALUE = 0, INITIAL = 1;

class Semaphore {
  readonly cells: Int32Array; // [value, initial value]
  readonly id: string; // names it on the channel, the same in every thread

  constructor(value = 1, cells: Int32Array = new Int32Array(new SharedArrayBuffer(8)), id = `threading.Semaphore ${randomUUID()}`) {
    this.cells = cells;
    this.id = id;
    if (cells[INITIAL] === 0) {
      cells[VALUE] = value;
      cells[INITIAL] = value;
      lockChannel.publish({ op: 'create', lock: this, id, kind: 'semaphore', capacity: value });
    }
  }

  acquire(blocking = true, timeoutMs = -1): boolean {
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    let waiting = false;
    for (;;) {
      const value = Atomics.load(this.cells, VALUE);
      if (value > 0) {
        if (Atomics.compareExchange(this.cells, VALUE, value, value - 1) === value) {
          lockChannel.publish({ op: 'acquired', lock: this, id: this.id, permits: 1 });
          return true;
        }
        continue; // another thread took it first: retry
      }
      const left = deadline - Date.now();
      if (!blocking || left <= 0) {
        if (waiting) lockChannel.publish({ op: 'wait-ended', lock: this, id: this.id, reason: 'timeout' });
        return false;
      }
      if (!waiting) {
        waiting = true;
        lockChannel.publish({ op: 'wait', lock: this, id: this.id, permits: 1, timeoutMs: left === Infinity ? undefined : left });
      }
      if (left === Infinity) Atomics.wait(this.cells, VALUE, 0);
      else Atomics.wait(this.cells, VALUE, 0, left);
    }
  }

  release(n = 1): void {
    Atomics.add(this.cells, VALUE, n);
    lockChannel.publish({ op: 'release', lock: this, id: this.id, permits: n });
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
    lockChannel.publish({ op: 'release', lock: this, id: this.id, permits: n });
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
  const threads = Array.from({ length: count }, () => new Worker(__filename, { workerData: { cells: semaphore.cells, id: semaphore.id, stats, count } }));
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
  const { cells, id, stats, count } = workerData as { cells: Int32Array; id: string; stats: Int32Array; count: number };
  const semaphore = new BoundedSemaphore(0, cells, id);
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
