// asyncio.Queue → a small async queue: put() waits while full, get() waits while empty,
// task_done()/join(), put_nowait/get_nowait raising QueueFull/QueueEmpty.
const { channel } = require('node:diagnostics_channel');
const { setTimeout: sleep } = require('node:timers/promises');

// Publishing on diagnostics_channel makes a home-made queue visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. An item is enqueued by
// put(), started when get() takes it and done at task_done().
const queueChannel = channel('gridlock:queue');

class QueueEmpty extends Error {
  name = 'QueueEmpty';
}
class QueueFull extends Error {
  name = 'QueueFull';
}

class Queue {
  #items = [];
  #getters = [];
  #putters = [];
  #unfinished = 0;
  #joiners = [];
  // Items are numbered on the channel, so equal values stay distinct (FIFO: the n-th get takes the n-th put).
  #published = { put: 0, get: 0, done: 0 };

  constructor(maxsize = 0) {
    this.maxsize = maxsize; // 0: unbounded, as in Python
    queueChannel.publish({ op: 'create', queue: this, kind: 'queue' });
  }

  qsize() {
    return this.#items.length;
  }
  empty() {
    return this.#items.length === 0;
  }
  full() {
    return this.maxsize > 0 && this.#items.length >= this.maxsize;
  }

  async put(item) {
    while (this.full()) await new Promise((resolve) => this.#putters.push(resolve));
    this.putNowait(item);
  }

  putNowait(item) {
    if (this.full()) throw new QueueFull();
    this.#items.push(item);
    this.#unfinished += 1;
    queueChannel.publish({ op: 'enqueue', queue: this, item: ++this.#published.put });
    this.#getters.shift()?.();
  }

  async get() {
    while (this.empty()) await new Promise((resolve) => this.#getters.push(resolve));
    return this.getNowait();
  }

  getNowait() {
    if (this.empty()) throw new QueueEmpty();
    const item = this.#items.shift();
    queueChannel.publish({ op: 'start', queue: this, item: ++this.#published.get });
    this.#putters.shift()?.();
    return item;
  }

  taskDone() {
    if (this.#unfinished <= 0) throw new Error('task_done() called too many times');
    queueChannel.publish({ op: 'done', queue: this, item: ++this.#published.done });
    if (--this.#unfinished === 0)
      for (const wake of this.#joiners.splice(0)) wake();
  }

  async join() {
    if (this.#unfinished > 0) await new Promise((resolve) => this.#joiners.push(resolve));
  }
}

async function ${1:handle}(n) {
  await sleep(1); // some async work
  return n * n;$0
}

async function main() {
  const queue = new Queue(${2:3});
  const results = [];
  const consumers = [1, 2].map(async () => {
    for (;;) {
      const n = await queue.get();
      try {
        if (n === null) return; // the sentinel: stop
        results.push(await $1(n));
      } finally {
        queue.taskDone(); // on every path, or join() never returns
      }
    }
  });
  for (let n = 1; n <= 10; n++) await queue.put(n); // waits while 3 items are queued
  await queue.join();
  console.log(`processed ${results.length} items, sum of squares ${results.reduce((a, b) => a + b, 0)}`);
  await Promise.all(consumers.map(() => queue.put(null)));
  await Promise.all(consumers);
  try {
    queue.getNowait();
  } catch (error) {
    console.log(`get_nowait() on an empty queue -> ${error.name}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
