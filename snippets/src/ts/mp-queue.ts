// multiprocessing.Queue / queue.Queue → a bounded, blocking FIFO in a SharedArrayBuffer that
// worker threads share; put/get block with Atomics.wait, with optional timeouts.
import { Worker, isMainThread, threadId, workerData } from 'node:worker_threads';
import { channel } from 'node:diagnostics_channel';
import { deserialize, serialize } from 'node:v8';

class Empty extends Error {
  override name = 'Empty';
}
class Full extends Error {
  override name = 'Full';
}

// Header cells: a futex lock, ring indexes, item count, and two wake-up sequence numbers.
const LOCK = 0, HEAD = 1, TAIL = 2, COUNT = 3, NOT_EMPTY = 4, NOT_FULL = 5, HEADER = 6;
interface SharedQueueInit {
  buffer: SharedArrayBuffer;
  maxsize: number;
  slotBytes: number;
  id: string;
}

// Publishing on diagnostics_channel makes this shared queue visible to tools such as Gridlock (free
// when nobody listens): the same id in every thread, and the number of items after each put and get.
const queueChannel = channel('gridlock:queue');
let queuesMade = 0;

/** Values are structured clones (v8.serialize, what postMessage uses), up to slotBytes each. */
class SharedQueue {
  readonly shared: SharedQueueInit;
  #state: Int32Array; // header, then the length of each slot
  #bytes: Uint8Array;

  constructor(maxsize: number, slotBytes = 256, buffer?: SharedArrayBuffer, id?: string) {
    const created = buffer === undefined;
    buffer ??= new SharedArrayBuffer(4 * (HEADER + maxsize) + maxsize * slotBytes);
    id ??= `SharedQueue ${process.pid}:${threadId}#${++queuesMade}`;
    this.shared = { buffer, maxsize, slotBytes, id }; // pass this through workerData
    this.#state = new Int32Array(buffer, 0, HEADER + maxsize);
    this.#bytes = new Uint8Array(buffer, 4 * (HEADER + maxsize));
    if (created) queueChannel.publish({ op: 'create', queue: this, id, kind: 'queue' });
  }

  static from(shared: SharedQueueInit): SharedQueue {
    return new SharedQueue(shared.maxsize, shared.slotBytes, shared.buffer, shared.id);
  }

  put(item: unknown, { block = true, timeout }: { block?: boolean; timeout?: number } = {}): void {
    const data = serialize(item);
    if (data.length > this.shared.slotBytes) throw new RangeError(`item of ${data.length} bytes > slotBytes`);
    const s = this.#state;
    this.#lock();
    try {
      this.#waitWhile(() => s[COUNT] === this.shared.maxsize, NOT_FULL, block, timeout, Full);
      const tail = s[TAIL];
      this.#bytes.set(data, tail * this.shared.slotBytes);
      s[HEADER + tail] = data.length;
      s[TAIL] = (tail + 1) % this.shared.maxsize;
      s[COUNT] += 1;
      queueChannel.publish({ op: 'stats', queue: this, id: this.shared.id, size: s[COUNT] });
      Atomics.add(s, NOT_EMPTY, 1);
      Atomics.notify(s, NOT_EMPTY, 1);
    } finally {
      this.#unlock();
    }
  }

  get({ block = true, timeout }: { block?: boolean; timeout?: number } = {}): unknown {
    const s = this.#state;
    this.#lock();
    try {
      this.#waitWhile(() => s[COUNT] === 0, NOT_EMPTY, block, timeout, Empty);
      const head = s[HEAD];
      const start = head * this.shared.slotBytes;
      const item: unknown = deserialize(this.#bytes.slice(start, start + s[HEADER + head]));
      s[HEAD] = (head + 1) % this.shared.maxsize;
      s[COUNT] -= 1;
      queueChannel.publish({ op: 'stats', queue: this, id: this.shared.id, size: s[COUNT] });
      Atomics.add(s, NOT_FULL, 1);
      Atomics.notify(s, NOT_FULL, 1);
      return item;
    } finally {
      this.#unlock();
    }
  }

  qsize(): number {
    return Atomics.load(this.#state, COUNT);
  }
  empty(): boolean {
    return this.qsize() === 0;
  }
  full(): boolean {
    return this.qsize() === this.shared.maxsize;
  }

  /** Waits (lock released) on a sequence number until `busy()` is false; throws on timeout. */
  #waitWhile(busy: () => boolean, seq: number, block: boolean, timeoutMs: number | undefined, error: new () => Error): void {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    while (busy()) {
      const left = deadline - Date.now();
      if (!block || left <= 0) throw new error();
      const seen = Atomics.load(this.#state, seq);
      this.#unlock();
      try {
        if (left === Infinity) Atomics.wait(this.#state, seq, seen);
        else Atomics.wait(this.#state, seq, seen, left);
      } finally {
        this.#lock();
      }
    }
  }

  // A futex lock: 0 = free, else the holder's threadId + 1.
  #lock(): void {
    for (;;) {
      const holder = Atomics.compareExchange(this.#state, LOCK, 0, threadId + 1);
      if (holder === 0) return;
      Atomics.wait(this.#state, LOCK, holder);
    }
  }
  #unlock(): void {
    Atomics.store(this.#state, LOCK, 0);
    Atomics.notify(this.#state, LOCK, 1);
  }
}

async function main(): Promise<void> {
  const q = new SharedQueue(${1:2}); // Queue(maxsize=2)
  console.log(`empty() -> ${q.empty()}`);
  q.put('a');
  q.put('b');
  console.log(`full() -> ${q.full()}, qsize() -> ${q.qsize()}`);
  try {
    q.put('c', { timeout: 50 });
  } catch (error) {
    console.log(`put(timeout=0.05) on a full queue -> ${(error as Error).name}`);
  }
  console.log(`get() -> ${String(q.get())}, get() -> ${String(q.get())}`);
  try {
    q.get({ block: false });
  } catch (error) {
    console.log(`get(block=False) on an empty queue -> ${(error as Error).name}`);
  }

  // Two producer threads put 5 items each (blocking while the queue is full); this thread gets.
  const producers = [0, 1].map((id) => new Worker(__filename, { workerData: { queue: q.shared, id, count: 5 } }));
  const exited = producers.map((worker) => new Promise<number>((resolve) => worker.once('exit', resolve)));
  const received: Array<{ id: number; n: number }> = [];
  for (let i = 0; i < 10; i++) received.push(q.get({ timeout: 5000 }) as { id: number; n: number });
  const inOrder = [0, 1].every((id) => received.filter((item) => item.id === id).every((item, n) => item.n === n));
  console.log(`received ${received.length} items from 2 producer threads, each producer's items in order: ${inOrder}`);
  console.log(`producer exit codes: ${(await Promise.all(exited)).join(',')}`);$0
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { queue, id, count } = workerData as { queue: SharedQueueInit; id: number; count: number };
  const q = SharedQueue.from(queue);
  for (let n = 0; n < count; n++) q.put({ id, n });
}
