// THE RLOCK TWIST — this program hangs on purpose. A thread holding a plain Lock calls a helper
// that takes the same Lock again: a Lock is not re-entrant, so the thread waits for itself
// forever. With an RLock (owner + depth) the same nested call goes through, as shown first.
// Run it under Gridlock to see a thread blocked on a lock it holds itself.
import { Worker, isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { once } from 'node:events';

/** A futex Lock: 0 = free, else the holder's threadId + 1. Not re-entrant. */
class Lock {
  readonly cells: Int32Array;
  constructor(cells: Int32Array) {
    this.cells = cells;
  }
  acquire(): void {
    for (;;) {
      const holder = Atomics.compareExchange(this.cells, 0, 0, threadId + 1);
      if (holder === 0) return;
      Atomics.wait(this.cells, 0, holder); // even when the holder is this very thread
    }
  }
  release(): void {
    Atomics.store(this.cells, 0, 0);
    Atomics.notify(this.cells, 0, 1);
  }
}

/** An RLock: the same futex word, plus a depth that only the owner touches. */
class RLock extends Lock {
  override acquire(): void {
    if (Atomics.load(this.cells, 0) === threadId + 1) {
      this.cells[1] += 1;
      return;
    }
    super.acquire();
    this.cells[1] = 1;
  }
  override release(): void {
    if (--this.cells[1] === 0) super.release();
  }
}

function withLock<T>(lock: Lock, fn: () => T): T {
  lock.acquire();
  try {
    return fn();
  } finally {
    lock.release();
  }
}

function ${1:audit}(lock: Lock): number {
  return withLock(lock, () => 1); // the helper takes the lock too$0
}

function update(lock: Lock): number {
  return withLock(lock, () => $1(lock)); // holds the lock while calling the helper
}

async function main(): Promise<void> {
  const cells = new Int32Array(new SharedArrayBuffer(16)); // [rlock owner, depth, lock, unused]
  const thread = new Worker(__filename, { name: 'thread-1', workerData: { cells } });
  thread.on('message', (line: string) => console.log(line));
  await once(thread, 'exit');
  console.log('done'); // never printed
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { cells } = workerData as { cells: Int32Array };
  update(new RLock(cells.subarray(0, 2)));
  parentPort?.postMessage('with an RLock: the nested acquire goes through');
  parentPort?.postMessage('with a Lock: thread-1 holds it and asks for it again: it waits for itself, forever');
  update(new Lock(cells.subarray(2, 3)));
}
