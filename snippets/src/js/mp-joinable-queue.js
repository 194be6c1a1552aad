// multiprocessing.JoinableQueue → a shared queue with task_done()/join(): producer in the main
// thread, daemon consumer threads (unref'd workers) that block on get() forever.
const { Worker, isMainThread, threadId, workerData } = require('node:worker_threads');
const { deserialize, serialize } = require('node:v8');

class Empty extends Error {
  name = 'Empty';
}

// Header cells: futex lock, ring indexes, count, wake-up sequence numbers, unfinished tasks.
const LOCK = 0, HEAD = 1, TAIL = 2, COUNT = 3, NOT_EMPTY = 4, NOT_FULL = 5, UNFINISHED = 6, HEADER = 7;

// Publishing on diagnostics_channel makes this shared queue visible to tools such as Gridlock (free
// when nobody listens): the same id in every thread, and the number of items after each put and get.
const queueChannel = require('node:diagnostics_channel').channel('gridlock:queue');
let queuesMade = 0;

class JoinableQueue {
  #state;
  #bytes;

  constructor(maxsize, slotBytes = 128, buffer, id) {
    const created = buffer === undefined;
    buffer ??= new SharedArrayBuffer(4 * (HEADER + maxsize) + maxsize * slotBytes);
    id ??= `JoinableQueue ${process.pid}:${threadId}#${++queuesMade}`;
    this.shared = { buffer, maxsize, slotBytes, id };
    this.#state = new Int32Array(buffer, 0, HEADER + maxsize);
    this.#bytes = new Uint8Array(buffer, 4 * (HEADER + maxsize));
    if (created) queueChannel.publish({ op: 'create', queue: this, id, kind: 'queue' });
  }

  static from(shared) {
    return new JoinableQueue(shared.maxsize, shared.slotBytes, shared.buffer, shared.id);
  }

  put(item) {
    const data = serialize(item); // a structured clone, like postMessage
    if (data.length > this.shared.slotBytes) throw new RangeError(`item of ${data.length} bytes > slotBytes`);
    const s = this.#state;
    this.#lock();
    try {
      this.#waitWhile(() => s[COUNT] === this.shared.maxsize, NOT_FULL);
      const tail = s[TAIL];
      this.#bytes.set(data, tail * this.shared.slotBytes);
      s[HEADER + tail] = data.length;
      s[TAIL] = (tail + 1) % this.shared.maxsize;
      s[COUNT] += 1;
      queueChannel.publish({ op: 'stats', queue: this, id: this.shared.id, size: s[COUNT] });
      Atomics.add(s, UNFINISHED, 1); // before the item is visible, so join() cannot miss it
      Atomics.add(s, NOT_EMPTY, 1);
      Atomics.notify(s, NOT_EMPTY, 1);
    } finally {
      this.#unlock();
    }
  }

  get() {
    const s = this.#state;
    this.#lock();
    try {
      this.#waitWhile(() => s[COUNT] === 0, NOT_EMPTY);
      const head = s[HEAD];
      const start = head * this.shared.slotBytes;
      const item = deserialize(this.#bytes.slice(start, start + s[HEADER + head]));
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

  /** task_done(): one get() item is fully processed. */
  taskDone() {
    const left = Atomics.sub(this.#state, UNFINISHED, 1) - 1;
    if (left < 0) throw new Error('task_done() called too many times');
    if (left === 0) Atomics.notify(this.#state, UNFINISHED);
  }

  /** join(): blocks until every item put has been task_done()'d (throws Empty on timeout). */
  join(timeoutMs = Infinity) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const unfinished = Atomics.load(this.#state, UNFINISHED);
      if (unfinished === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Empty(`join() timed out with ${unfinished} unfinished tasks`);
      if (left === Infinity) Atomics.wait(this.#state, UNFINISHED, unfinished);
      else Atomics.wait(this.#state, UNFINISHED, unfinished, left);
    }
  }

  #waitWhile(busy, seq) {
    while (busy()) {
      const seen = Atomics.load(this.#state, seq);
      this.#unlock();
      try {
        Atomics.wait(this.#state, seq, seen);
      } finally {
        this.#lock();
      }
    }
  }

  // A futex lock: 0 = free, else the holder's threadId + 1.
  #lock() {
    for (;;) {
      const holder = Atomics.compareExchange(this.#state, LOCK, 0, threadId + 1);
      if (holder === 0) return;
      Atomics.wait(this.#state, LOCK, holder);
    }
  }
  #unlock() {
    Atomics.store(this.#state, LOCK, 0);
    Atomics.notify(this.#state, LOCK, 1);
  }
}

function ${1:handle}(n) {
  return n * n;$0
}

if (isMainThread) {
  const q = new JoinableQueue(4);
  const total = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < ${2:2}; i++) {
    const consumer = new Worker(__filename, { workerData: { queue: q.shared, total } });
    consumer.unref(); // daemon=True: it does not keep the process alive
    consumer.on('error', (error) => {
      console.error(error);
      process.exit(1);
    });
  }
  for (let n = 1; n <= 20; n++) q.put(n); // blocks while 4 items wait
  q.join(5000); // returns once every item has been task_done()'d
  console.log(`all 20 tasks done: sum of squares = ${Atomics.load(total, 0)}`);
  console.log('main thread ends; the daemon consumers end with it');
} else {
  const { queue, total } = workerData;
  const q = JoinableQueue.from(queue);
  for (;;) {
    const n = q.get();
    try {
      Atomics.add(total, 0, $1(n));
    } finally {
      q.taskDone(); // on every path, or join() never returns
    }
  }
}
