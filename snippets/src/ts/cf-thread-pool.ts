// concurrent.futures.ThreadPoolExecutor → a pool of worker_threads running this same file, with
// Python's Future API (result/exception/cancel/add_done_callback), map, as_completed, shutdown.
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { channel } from 'node:diagnostics_channel';
import { availableParallelism } from 'node:os';

// Publishing on diagnostics_channel makes a home-made pool visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. Each future is an item:
// enqueued by submit(), started on a worker (its threadId), done when it finishes or is cancelled.
const poolChannel = channel('gridlock:queue');

// What the workers can run, found by name (functions are not sent between threads).
const tasks = {
  ${1:pow}(base: number, exp: number): number {
    return base ** exp;$0
  },
  sleep(ms: number): number {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // blocks this worker only
    return ms;
  },
  fail(message: string): never {
    throw new Error(message);
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

class ThreadPoolExecutor {
  #workers: Worker[] = [];
  #idle: Worker[] = [];
  #busy = new Map<Worker, Future>();
  #queue: WorkItem[] = [];
  #shutdown = false;
  /** Resolves once every worker has booted (Python threads start at once; a worker takes a few ms). */
  readonly ready: Promise<void>;

  constructor(maxWorkers = availableParallelism()) {
    poolChannel.publish({ op: 'create', queue: this, kind: 'pool', concurrency: maxWorkers });
    const booted: Array<Promise<void>> = [];
    for (let i = 0; i < maxWorkers; i++) {
      const worker = new Worker(__filename);
      booted.push(new Promise((resolve) => worker.once('message', () => resolve())));
      worker.once('message', () => {
        worker.on('message', (reply: { ok: boolean; value?: unknown; error?: unknown }) => this.#done(worker, reply));
        this.#idle.push(worker);
        this.#dispatch();
      });
      worker.on('error', (error) => {
        const future = this.#busy.get(worker);
        if (future) poolChannel.publish({ op: 'done', queue: this, item: future, failed: true });
        future?.setException(error);
        this.#busy.delete(worker);
      });
      this.#workers.push(worker);
    }
    this.ready = Promise.all(booted).then(() => {});
  }

  submit<T>(fn: TaskName, ...args: unknown[]): Future<T> {
    if (this.#shutdown) throw new Error('cannot schedule new futures after shutdown');
    const future = new Future<T>();
    this.#queue.push({ future: future as Future, fn, args });
    poolChannel.publish({ op: 'enqueue', queue: this, item: future });
    this.#dispatch();
    return future;
  }

  /** map(fn, *iterables, timeout): results in order, as an async iterator. */
  async *map<T>(fn: TaskName, ...iterables: unknown[][]): AsyncGenerator<T> {
    const length = Math.min(...iterables.map((items) => items.length));
    const futures = Array.from({ length }, (_, i) => this.submit<T>(fn, ...iterables.map((items) => items[i])));
    try {
      for (const future of futures) yield await future.result();
    } finally {
      for (const future of futures) future.cancel(); // the caller stopped early: drop the rest
    }
  }

  /** shutdown(wait, cancel_futures): no new work; with wait, returns once the workers have exited. */
  async shutdown({ wait = true, cancelFutures = false } = {}): Promise<void> {
    this.#shutdown = true;
    if (cancelFutures) {
      for (const item of this.#queue.splice(0)) {
        item.future.cancel();
        poolChannel.publish({ op: 'done', queue: this, item: item.future });
      }
    }
    const exited = this.#workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    this.#dispatch();
    if (wait) await Promise.all(exited);
  }

  #done(worker: Worker, reply: { ok: boolean; value?: unknown; error?: unknown }): void {
    const future = this.#busy.get(worker);
    this.#busy.delete(worker);
    this.#idle.push(worker);
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
      const worker = this.#idle.shift() as Worker;
      this.#busy.set(worker, item.future);
      poolChannel.publish({ op: 'start', queue: this, item: item.future, workerThreadId: worker.threadId });
      worker.postMessage({ fn: item.fn, args: item.args });
    }
    if (this.#shutdown && this.#queue.length === 0) for (const worker of this.#idle.splice(0)) worker.postMessage(null);
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

/** `with ThreadPoolExecutor() as executor:` — shutdown(wait=True) on every path. */
async function withExecutor<T>(executor: ThreadPoolExecutor, fn: (executor: ThreadPoolExecutor) => Promise<T>): Promise<T> {
  try {
    return await fn(executor);
  } finally {
    await executor.shutdown({ wait: true });
  }
}

async function main(): Promise<void> {
  const executor = new ThreadPoolExecutor(${2:3}); // with ThreadPoolExecutor(max_workers=3) as executor:
  await withExecutor(executor, async () => {
    await executor.ready;
    const future = executor.submit<number>('$1', 2, 10);
    future.addDoneCallback((f) => console.log(`add_done_callback: done() -> ${f.done()}`));
    console.log(`submit(pow, 2, 10).result() -> ${await future.result()}`);

    const squares: number[] = [];
    for await (const value of executor.map<number>('$1', [1, 2, 3, 4], [2, 2, 2, 2])) squares.push(value);
    console.log(`map(pow, [1, 2, 3, 4], [2, 2, 2, 2]) -> ${JSON.stringify(squares)}`);

    const order: number[] = [];
    const sleepers = [300, 20, 150].map((ms) => executor.submit<number>('sleep', ms));
    for await (const f of asCompleted(sleepers)) order.push(await f.result());
    console.log(`as_completed(sleep 300, 20, 150) -> ${order.join(', ')}`);

    const failed = executor.submit('fail', 'boom');
    console.log(`exception() -> ${String(await failed.exception())}`);

    const running = [1, 2, 3].map(() => executor.submit('sleep', 50)); // every worker busy
    const queued = executor.submit('sleep', 50);
    console.log(`cancel() on a queued future -> ${queued.cancel()}, on a running one -> ${running[0].cancel()}`);
    await queued.result().catch((error: Error) => console.log(`result() of the cancelled future -> ${error.name}`));
  });
  console.log('shutdown(wait=True) done: every worker has exited');
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const port = parentPort;
  if (!port) throw new Error('not a worker');
  port.on('message', (job: { fn: TaskName; args: never[] } | null) => {
    if (job === null) return port.close(); // shutdown: let this thread end
    try {
      port.postMessage({ ok: true, value: (tasks[job.fn] as (...args: never[]) => unknown)(...job.args) });
    } catch (error) {
      port.postMessage({ ok: false, error }); // errors travel as structured clones
    }
  });
  port.postMessage('ready');
}
