// concurrent.futures.ProcessPoolExecutor → a pool of forked Node processes running this same
// file, with Python's Future API (result/exception/cancel/add_done_callback), map and shutdown.
const { fork } = require('node:child_process');
const { channel } = require('node:diagnostics_channel');
const { availableParallelism } = require('node:os');

// Publishing on diagnostics_channel makes a home-made pool visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. Each future is an item:
// enqueued by submit(), started on a process, done when it finishes or is cancelled.
const poolChannel = channel('gridlock:queue');

// What the processes can run, found by name (functions are not pickled).
const tasks = {
  ${1:isPrime}(n) {
    if (n < 0) throw new RangeError(`n must be >= 0, got ${n}`);
    if (n < 2) return false;
    for (let d = 2; d * d <= n; d++)
      if (n % d === 0) return false;
    return true;$0
  },
  sleep(ms) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // blocks this process only
    return ms;
  },
};

class CancelledError extends Error {
  name = 'CancelledError';
}
class TimeoutError extends Error {
  name = 'TimeoutError';
}

class Future {
  #state = 'PENDING';
  #value;
  #error;
  #failed = false;
  #callbacks = [];
  #resolve = () => {};
  #settled = new Promise((resolve) => (this.#resolve = resolve));

  cancel() {
    if (this.#state === 'RUNNING' || this.#state === 'FINISHED') return false;
    if (this.#state === 'PENDING') {
      this.#state = 'CANCELLED';
      this.#finish();
    }
    return true;
  }
  cancelled() {
    return this.#state === 'CANCELLED';
  }
  running() {
    return this.#state === 'RUNNING';
  }
  done() {
    return this.#state === 'FINISHED' || this.#state === 'CANCELLED';
  }

  /** result(timeout): the value; throws the task's error, CancelledError or TimeoutError. */
  async result(timeoutMs) {
    await this.#wait(timeoutMs);
    if (this.#state === 'CANCELLED') throw new CancelledError();
    if (this.#failed) throw this.#error;
    return this.#value;
  }

  /** exception(timeout): the task's error, or undefined when it succeeded. */
  async exception(timeoutMs) {
    await this.#wait(timeoutMs);
    if (this.#state === 'CANCELLED') throw new CancelledError();
    return this.#failed ? this.#error : undefined;
  }

  addDoneCallback(fn) {
    if (this.done()) fn(this);
    else this.#callbacks.push(fn);
  }

  // For the executor (Python's set_running_or_notify_cancel / set_result / set_exception).
  setRunning() {
    if (this.#state !== 'PENDING') return false;
    this.#state = 'RUNNING';
    return true;
  }
  setResult(value) {
    this.#value = value;
    this.#state = 'FINISHED';
    this.#finish();
  }
  setException(error) {
    this.#error = error;
    this.#failed = true;
    this.#state = 'FINISHED';
    this.#finish();
  }

  #finish() {
    this.#resolve();
    for (const fn of this.#callbacks.splice(0)) {
      try {
        fn(this);
      } catch (error) {
        console.error('exception calling callback for', this, error); // as Python logs it
      }
    }
  }

  async #wait(timeoutMs) {
    if (this.done() || timeoutMs === undefined) return this.#settled;
    let timer;
    const timedOut = new Promise((_, reject) => (timer = setTimeout(() => reject(new TimeoutError()), timeoutMs)));
    try {
      await Promise.race([this.#settled, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

class ProcessPoolExecutor {
  #children = [];
  #exited = [];
  #idle = [];
  #busy = new Map();
  #queue = [];
  #shutdown = false;

  constructor(maxWorkers = availableParallelism()) {
    poolChannel.publish({ op: 'create', queue: this, kind: 'pool', concurrency: maxWorkers });
    for (let i = 0; i < maxWorkers; i++) {
      // serialization: 'advanced' sends structured clones (Errors, Maps, Dates…) instead of JSON.
      const child = fork(__filename, ['child'], { serialization: 'advanced' });
      child.on('message', (reply) => this.#done(child, reply));
      child.once('exit', (code, signal) => {
        // BrokenProcessPool: a process that dies fails its current task
        const future = this.#busy.get(child);
        if (future) poolChannel.publish({ op: 'done', queue: this, item: future, failed: true });
        future?.setException(new Error(`worker process exited (code ${code}, signal ${signal})`));
        this.#busy.delete(child);
      });
      this.#exited.push(new Promise((resolve) => child.once('exit', resolve)));
      this.#children.push(child);
      this.#idle.push(child);
    }
  }

  submit(fn, ...args) {
    if (this.#shutdown) throw new Error('cannot schedule new futures after shutdown');
    const future = new Future();
    this.#queue.push({ future, fn, args });
    poolChannel.publish({ op: 'enqueue', queue: this, item: future });
    this.#dispatch();
    return future;
  }

  /** map(fn, *iterables): results in order, as an async iterator. */
  async *map(fn, ...iterables) {
    const length = Math.min(...iterables.map((items) => items.length));
    const futures = Array.from({ length }, (_, i) => this.submit(fn, ...iterables.map((items) => items[i])));
    try {
      for (const future of futures) yield await future.result();
    } finally {
      for (const future of futures) future.cancel();
    }
  }

  /** shutdown(wait, cancel_futures): no new work; with wait, returns once the processes have exited. */
  async shutdown({ wait = true, cancelFutures = false } = {}) {
    this.#shutdown = true;
    if (cancelFutures) {
      for (const item of this.#queue.splice(0)) {
        item.future.cancel();
        poolChannel.publish({ op: 'done', queue: this, item: item.future });
      }
    }
    this.#dispatch();
    if (wait) await Promise.all(this.#exited);
  }

  #done(child, reply) {
    const future = this.#busy.get(child);
    this.#busy.delete(child);
    this.#idle.push(child);
    if (future) poolChannel.publish({ op: 'done', queue: this, item: future, failed: !reply.ok });
    if (reply.ok) future?.setResult(reply.value);
    else future?.setException(reply.error);
    this.#dispatch();
  }

  #dispatch() {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const item = this.#queue.shift();
      if (!item.future.setRunning()) {
        poolChannel.publish({ op: 'done', queue: this, item: item.future }); // cancelled while queued
        continue;
      }
      const child = this.#idle.shift();
      this.#busy.set(child, item.future);
      poolChannel.publish({ op: 'start', queue: this, item: item.future });
      child.send({ fn: item.fn, args: item.args });
    }
    if (this.#shutdown && this.#queue.length === 0)
      for (const child of this.#idle.splice(0)) child.disconnect(); // it exits
  }
}

/** as_completed(futures, timeout): yields each future as it finishes. */
async function* asCompleted(futures, timeoutMs = Infinity) {
  const finished = [];
  let wake = () => {};
  for (const future of futures) {
    future.addDoneCallback((f) => {
      finished.push(f);
      wake();
    });
  }
  const deadline = Date.now() + timeoutMs;
  for (let yielded = 0; yielded < futures.length; yielded++) {
    if (finished.length === 0) {
      let timer;
      try {
        await new Promise((resolve, reject) => {
          wake = resolve;
          if (timeoutMs !== Infinity) timer = setTimeout(() => reject(new TimeoutError(`${futures.length - yielded} (of ${futures.length}) futures unfinished`)), deadline - Date.now());
        });
      } finally {
        clearTimeout(timer);
      }
    }
    yield finished.shift();
  }
}

/** `with ProcessPoolExecutor() as executor:` — shutdown(wait=True) on every path. */
async function withExecutor(executor, fn) {
  try {
    return await fn(executor);
  } finally {
    await executor.shutdown({ wait: true });
  }
}

async function main() {
  const executor = new ProcessPoolExecutor(${2:2}); // with ProcessPoolExecutor(max_workers=2) as executor:
  await withExecutor(executor, async () => {
    const future = executor.submit('$1', 97);
    future.addDoneCallback((f) => console.log(`add_done_callback: done() -> ${f.done()}`));
    console.log(`submit(is_prime, 97).result() -> ${await future.result()}`);
    const primes = [];
    for await (const value of executor.map('$1', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
      primes.push(value);
    console.log(`map(is_prime, range(1, 11)) -> ${JSON.stringify(primes)}`);
    console.log(`exception() -> ${String(await executor.submit('$1', -1).exception())}`);

    const order = [];
    const sleepers = [400, 20].map((ms) => executor.submit('sleep', ms)); // both processes busy
    const queued = executor.submit('sleep', 10);
    console.log(`cancel() on a queued future -> ${queued.cancel()}, on a running one -> ${sleepers[0].cancel()}`);
    for await (const f of asCompleted(sleepers))
      order.push(await f.result());
    console.log(`as_completed(sleep 400, 20) -> ${order.join(', ')}`);
  });
  console.log('shutdown(wait=True) done: every worker process has exited');
}

if (process.argv[2] === 'child') {
  // Runs tasks until the parent disconnects the IPC channel (shutdown), then exits.
  process.on('message', (job) => {
    try {
      process.send?.({ ok: true, value: tasks[job.fn](...job.args) });
    } catch (error) {
      process.send?.({ ok: false, error });
    }
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
