// threading.Event → one Int32 flag in a SharedArrayBuffer: set() stores 1 and Atomics.notify
// wakes every waiter; wait(timeout) sleeps in Atomics.wait while the flag is 0.
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { once } = require('node:events');

class Event {

  constructor(cells = new Int32Array(new SharedArrayBuffer(4))) {
    this.cells = cells;
  }

  isSet() {
    return Atomics.load(this.cells, 0) === 1;
  }

  set() {
    Atomics.store(this.cells, 0, 1);
    Atomics.notify(this.cells, 0); // all waiters
  }

  clear() {
    Atomics.store(this.cells, 0, 0);
  }

  /** wait(timeout): true once the flag is set, false if the timeout passes first. */
  wait(timeoutMs = Infinity) {
    const deadline = Date.now() + timeoutMs;
    while (!this.isSet()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if (left === Infinity) Atomics.wait(this.cells, 0, 0);
      else Atomics.wait(this.cells, 0, 0, left);
    }
    return true;
  }
}

async function main() {
  const ${1:ready} = new Event();
  console.log(`is_set() -> ${$1.isSet()}; wait(timeout=0.05) -> ${$1.wait(50)}`);
  const count = 3;
  const threads = Array.from({ length: count }, () => new Worker(__filename, { workerData: { cells: $1.cells } }));
  const exited = threads.map((thread) => once(thread, 'exit')); // listen now: a thread may exit before a later await ends
  const woke = threads.map(async (thread) => (await once(thread, 'message'))[0]);
  $1.set(); // wakes every thread blocked in wait(), and lets later waiters straight through
  console.log(`${count} threads woke from wait(): ${(await Promise.all(woke)).join(',')}`);
  $1.clear();
  console.log(`after clear(): is_set() -> ${$1.isSet()}`);$0
  await Promise.all(exited);
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const event = new Event(workerData.cells);
  parentPort?.postMessage(event.wait(5000));
}
