// concurrent.futures.ProcessPoolExecutor → a pool of forked Node processes running this same
// file, with Python's Future API (result/exception/cancel/add_done_callback), map and shutdown.
import { fork, type ChildProcess } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { availableParallelism } from 'node:os';

// Publishing on diagnostics_channel makes a home-made pool visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. Each future is an item:
// enqueued by submit(), started on a process, done when it finishes or is cancelled.
const poolChannel = channel('gridlock:queue');

// What the processes can run, found by name (functions are not pickled).
const tasks = {
  ${1:isPrime}(n: number): boolean {
    if (n < 0) throw new RangeError(`n must be >= 0, got ${n}`);
    if (n < 2) return false;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return true;$0
  },
  sleep(ms: number): number {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // blocks this process only
    return ms;
  },
};
type TaskName = keyof typeof tasks;

class CancelledError extends Error {
  override name = 'CancelledError';
}
class TimeoutError extends Error {
  override name = 'TimeoutError';
}

class Future<T = unknown> {
  #state: 'PENDING' | 'RUNNING' | 'FINISHED' | 'CANCELLED' = 'PENDING';
  #value: T | undefined;
  #error: unknown;
  #failed = false;
  #callbacks: Array<(future: Future<T>) => void> = [];
  #resolve: () => void = () => {};
  #settled = new Promise<void>((resolve) => (this.#resolve = resolve));

  cancel(): boolean {
    if (this.#state === 'RUNNING' || this.#state === 'FINISHED') return false;
    if (this.#state === 'PENDING') {
      this.#state = 'CANCELLED';
      this.#finish();
    }
    return true;
  }
  cancelled(): boolean {
    return this.#state === 'CANCELLED';
  }
  running(): boolean {
    return this.#state === 'RUNNING';
  }
  done(): boolean {
    return this.#state === 'FINISHED' || this.#state === 'CANCELLED';
  }

  /** result(timeout): the value; throws the task's error, CancelledError or TimeoutError. */
  async result(timeoutMs?: number): Promise<T> {
    await this.#wait(timeoutMs);
    if (this.#state === 'CANCELLED') throw new CancelledError();
    if (this.#failed) throw this.#error;
    return this.#value as T;
  }

  /** exception(timeout): the task's error, or undefined when it succeeded. */
  async exception(timeoutMs?: number): Promise<unknown> {
    await this.#wait(timeoutMs);
    if (this.#state === 'CANCELLED') throw new CancelledError();
    return this.#failed ? this.#error : undefined;
  }

  addDoneCallback(fn: (future: Future<T>) => void): void {
    if (this.done()) fn(this);
    else this.#callbacks.push(fn);
  }

  // For the executor (Python's set_running_or_notify_cancel / set_result / set_exception).
  setRunning(): boolean {
    if (this.#state !== 'PENDING') return false;
    this.#state = 'RUNNING';
    return true;
  }
  setResult(value: T): void {
    this.#value = value;
    this.#state = 'FINISHED';
    this.#finish();
  }
  setException(error: unknown): void {
    this.#error = error;
    this.#failed = true;
    this.#state = 'FINISHED';
    this.#finish();
  }

  #finish(): void {
    this.#resolve();
    for (const fn of this.#callbacks.splice(0)) {
      try {
        fn(this);
      } catch (error) {
        console.error('exception calling callback for', this, error); // as Python logs it
      }
    }
  }

  async #wait(timeoutMs?: number): Promise<void> {
    if (this.done() || timeoutMs === undefined) return this.#settled;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError()), timeoutMs)));
    try {
      await Promise.race([this.#settled, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

interface WorkItem {
  future: Future;
  fn: TaskName;
  args: unknown[];
}

class ProcessPoolExecutor {
  #children: ChildProcess[] = [];
  #exited: Array<Promise<unknown>> = [];
  #idle: ChildProcess[] = [];
  #busy = new Map<ChildProcess, Future>();
  #queue: WorkItem[] = [];
  #shutdown = false;

  constructor(maxWorkers = availableParallelism()) {
    poolChannel.publish({ op: 'create', queue: this, kind: 'pool', concurrency: maxWorkers });
    for (let i = 0; i < maxWorkers; i++) {
      // serialization: 'advanced' sends structured clones (Errors, Maps, Dates…) instead of JSON.
      const child = fork(__filename, ['child'], { serialization: 'advanced' });
      child.on('message', (reply: { ok: boolean; value?: unknown; error?: unknown }) => this.#done(child, reply));
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

  submit<T>(fn: TaskName, ...args: unknown[]): Future<T> {
    if (this.#shutdown) throw new Error('cannot schedule new futures after shutdown');
    const future = new Future<T>();
    this.#queue.push({ future: future as Future, fn, args });
    poolChannel.publish({ op: 'enqueue', queue: this, item: future });
    this.#dispatch();
    return future;
  }

  /** map(fn, *iterables): results in order, as an async iterator. */
  async *map<T>(fn: TaskName, ...iterables: unknown[][]): AsyncGenerator<T> {
    const length = Math.min(...iterables.map((items) => items.length));
    const futures = Array.from({ length }, (_, i) => this.submit<T>(fn, ...iterables.map((items) => items[i])));
    try {
      for (const future of futures) yield await future.result();
    } finally {
      for (const future of futures) future.cancel();
    }
  }

  /** shutdown(wait, cancel_futures): no new work; with wait, returns once the processes have exited. */
  async shutdown({ wait = true, cancelFutures = false } = {}): Promise<void> {
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

  #done(child: ChildProcess, reply: { ok: boolean; value?: unknown; error?: unknown }): void {
    const future = this.#busy.get(child);
    this.#busy.delete(child);
    this.#idle.push(child);
    if (future) poolChannel.publish({ op: 'done', queue: this, item: future, failed: !reply.ok });
    if (reply.ok) future?.setResult(reply.value);
    else future?.setException(reply.error);
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const item = this.#queue.shift() as WorkItem;
      if (!item.future.setRunning()) {
        poolChannel.publish({ op: 'done', queue: this, item: item.future }); // cancelled while queued
        continue;
      }
      const child = this.#idle.shift() as ChildProcess;
      this.#busy.set(child, item.future);
      poolChannel.publish({ op: 'start', queue: this, item: item.future });
      child.send({ fn: item.fn, args: item.args });
    }
    if (this.#shutdown && this.#queue.length === 0) for (const child of this.#idle.splice(0)) child.disconnect(); // it exits
  }
}

/** as_completed(futures, timeout): yields each future as it finishes. */
async function* asCompleted<T>(futures: Array<Future<T>>, timeoutMs = Infinity): AsyncGenerator<Future<T>> {
  const finished: Array<Future<T>> = [];
  let wake: () => void = () => {};
  for (const future of futures) {
    future.addDoneCallback((f) => {
      finished.push(f);
      wake();
    });
  }
  const deadline = Date.now() + timeoutMs;
  for (let yielded = 0; yielded < futures.length; yielded++) {
    if (finished.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          if (timeoutMs !== Infinity) timer = setTimeout(() => reject(new TimeoutError(`${futures.length - yielded} (of ${futures.length}) futures unfinished`)), deadline - Date.now());
        });
      } finally {
        clearTimeout(timer);
      }
    }
    yield finished.shift() as Future<T>;
  }
}

/** `with ProcessPoolExecutor() as executor:` — shutdown(wait=True) on every path. */
async function withExecutor<T>(executor: ProcessPoolExecutor, fn: (executor: ProcessPoolExecutor) => Promise<T>): Promise<T> {
  try {
    return await fn(executor);
  } finally {
    await executor.shutdown({ wait: true });
  }
}

async function main(): Promise<void> {
  const executor = new ProcessPoolExecutor(${2:2}); // with ProcessPoolExecutor(max_workers=2) as executor:
  await withExecutor(executor, async () => {
    const future = executor.submit<boolean>('$1', 97);
    future.addDoneCallback((f) => console.log(`add_done_callback: done() -> ${f.done()}`));
    console.log(`submit(is_prime, 97).result() -> ${await future.result()}`);
    const primes: boolean[] = [];
    for await (const value of executor.map<boolean>('$1', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) primes.push(value);
    console.log(`map(is_prime, range(1, 11)) -> ${JSON.stringify(primes)}`);
    console.log(`exception() -> ${String(await executor.submit('$1', -1).exception())}`);

    const order: number[] = [];
    const sleepers = [400, 20].map((ms) => executor.submit<number>('sleep', ms)); // both processes busy
    const queued = executor.submit('sleep', 10);
    console.log(`cancel() on a queued future -> ${queued.cancel()}, on a running one -> ${sleepers[0].cancel()}`);
    for await (const f of asCompleted(sleepers)) order.push(await f.result());
    console.log(`as_completed(sleep 400, 20) -> ${order.join(', ')}`);
  });
  console.log('shutdown(wait=True) done: every worker process has exited');
}

if (process.argv[2] === 'child') {
  // Runs tasks until the parent disconnects the IPC channel (shutdown), then exits.
  process.on('message', (job: { fn: TaskName; args: never[] }) => {
    try {
      process.send?.({ ok: true, value: (tasks[job.fn] as (...args: never[]) => unknown)(...job.args) });
    } catch (error) {
      process.send?.({ ok: false, error });
    }
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
