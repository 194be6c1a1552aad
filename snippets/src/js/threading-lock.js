// threading.Lock → a futex lock in a SharedArrayBuffer, shared by worker threads:
// Atomics.compareExchange to take it, Atomics.wait to sleep, Atomics.notify to wake a waiter.
const { Worker, isMainThread, threadId, workerData } = require('node:worker_threads');
const { once } = require('node:events');

/** One Int32 cell: 0 = free, else the holder's threadId + 1 (so a thread dump shows who holds it). */
class Lock {

  constructor(cells = new Int32Array(new SharedArrayBuffer(4)), index = 0) {
    this.cells = cells;
    this.index = index;
  }

  /** acquire(blocking=True, timeout=-1), with the timeout in milliseconds. */
  acquire(blocking = true, timeoutMs = -1) {
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const holder = Atomics.compareExchange(this.cells, this.index, 0, threadId + 1);
      if (holder === 0) return true;
      const left = deadline - Date.now();
      if (!blocking || left <= 0) return false;
      if (left === Infinity) Atomics.wait(this.cells, this.index, holder);
      else Atomics.wait(this.cells, this.index, holder, left);
    }
  }

  release() {
    if (Atomics.exchange(this.cells, this.index, 0) === 0) throw new Error('release unlocked lock');
    Atomics.notify(this.cells, this.index, 1);
  }

  locked() {
    return Atomics.load(this.cells, this.index) !== 0;
  }
}

/** `with lock:` — released on every path. */
function withLock(lock, fn) {
  lock.acquire();
  try {
    return fn();
  } finally {
    lock.release();
  }
}

function ${1:increment}(counter) {
  counter[0] = counter[0] + 1; // read-modify-write: without the lock, threads lose updates$0
}

async function main() {
  const shared = new Int32Array(new SharedArrayBuffer(12)); // [lock, counter, start gate]
  const lock = new Lock(shared, 0);
  const counter = shared.subarray(1, 2);
  const threads = Array.from({ length: ${2:4} }, () => new Worker(__filename, { workerData: { shared, times: 10000 } }));
  const exited = threads.map((thread) => once(thread, 'exit')); // listen now: a thread may exit before a later await ends
  await Promise.all(threads.map((thread) => once(thread, 'online')));
  Atomics.store(shared, 2, 1); // open the gate: all threads start counting together
  Atomics.notify(shared, 2);
  await Promise.all(exited);
  console.log(`counter = ${counter[0]} (${threads.length} threads x 10000 locked increments)`);

  lock.acquire();
  try {
    console.log(`locked() -> ${lock.locked()}; acquire(timeout=0.05) by the holder -> ${lock.acquire(true, 50)} (not re-entrant)`);
  } finally {
    lock.release();
  }
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { shared, times } = workerData;
  const lock = new Lock(shared, 0);
  const counter = shared.subarray(1, 2);
  Atomics.wait(shared, 2, 0); // the start gate
  for (let i = 0; i < times; i++) withLock(lock, () => $1(counter));
}
