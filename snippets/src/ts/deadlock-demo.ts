// THE CLASSIC DEADLOCK — this program hangs on purpose. Two worker threads take two futex locks
// (SharedArrayBuffer + Atomics) in opposite order: thread-1 takes A then B, thread-2 takes B then A.
// A handshake makes each hold its first lock before asking for the second, so the deadlock is
// certain, not a matter of timing. Run it under Gridlock to see the cycle and both lines.
// The fix: take locks in one global order (always A before B), or acquire with a timeout and back off.
import { Worker, isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { once } from 'node:events';

const ${1:LOCK_A} = 0, ${2:LOCK_B} = 1, HOLDING = 2;
const names = ['A', 'B'];

/** A futex lock: 0 = free, else the holder's threadId + 1. Waits with no timeout: for good. */
function acquire(cells: Int32Array, lock: number): void {
  for (;;) {
    const holder = Atomics.compareExchange(cells, lock, 0, threadId + 1);
    if (holder === 0) return;
    Atomics.wait(cells, lock, holder);
  }
}

function release(cells: Int32Array, lock: number): void {
  Atomics.store(cells, lock, 0);
  Atomics.notify(cells, lock, 1);
}

function transfer(cells: Int32Array, name: string, first: number, second: number): void {
  acquire(cells, first);
  try {
    parentPort?.postMessage(`${name} holds lock ${names[first]}, wants lock ${names[second]}`);
    // Handshake: wait until both threads hold their first lock.
    Atomics.add(cells, HOLDING, 1);
    Atomics.notify(cells, HOLDING);
    for (let n = Atomics.load(cells, HOLDING); n < 2; n = Atomics.load(cells, HOLDING)) Atomics.wait(cells, HOLDING, n);
    acquire(cells, second); // the other thread holds it and waits for ours: neither ever returns
    try {
      $0// move the money
    } finally {
      release(cells, second);
    }
  } finally {
    release(cells, first);
  }
}

async function main(): Promise<void> {
  const cells = new Int32Array(new SharedArrayBuffer(12)); // [lock A, lock B, handshake]
  const threads = [
    new Worker(__filename, { name: 'thread-1', workerData: { cells, name: 'thread-1', first: $1, second: $2 } }),
    new Worker(__filename, { name: 'thread-2', workerData: { cells, name: 'thread-2', first: $2, second: $1 } }),
  ];
  const exited = threads.map((thread) => once(thread, 'exit')); // listen now: a thread may exit before a later await ends
  const said = await Promise.all(threads.map(async (thread) => (await once(thread, 'message'))[0] as string));
  for (const line of said) console.log(line);
  console.log('each waits for the other: deadlock (and the main thread waits for both)');
  await Promise.all(exited);
  console.log('done'); // never printed
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { cells, name, first, second } = workerData as { cells: Int32Array; name: string; first: number; second: number };
  transfer(cells, name, first, second);
}
