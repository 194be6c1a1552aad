// multiprocessing.Pool → a pool of worker_threads, each running this same file.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { channel } from 'node:diagnostics_channel';
import { availableParallelism } from 'node:os';

// Publishing on diagnostics_channel makes a home-made pool visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. Each job is an item:
// enqueued by apply(), started on a worker (its threadId), done when it replies.
const poolChannel = channel('gridlock:queue');

// What the pool can run, found by name in the worker: functions are not sent (there is no pickle).
let exponent = 1; // set once per worker by the initializer
const tasks = {
  ${1:power}(x: number): number {
    if (x < 0) throw new RangeError(`negative input: ${x}`);
    return x ** exponent;$0
  },
};
type TaskName = keyof typeof tasks;

function initializer(e: number): void {
  exponent = e;
}

interface Job {
  fn: TaskName;
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

class Pool {
  #workers: Worker[] = [];
  #exited: Array<Promise<unknown>> = [];
  #idle: Worker[] = [];
  #busy = new Map<Worker, Job>();
  #queue: Job[] = [];
  #closed = false;

  constructor(processes = availableParallelism(), initargs: unknown[] = []) {
    poolChannel.publish({ op: 'create', queue: this, kind: 'pool', concurrency: processes });
    for (let i = 0; i < processes; i++) {
      // resourceLimits caps each worker's heap: a worker that runs out of memory dies alone.
      const worker = new Worker(__filename, { workerData: { initargs }, resourceLimits: { maxOldGenerationSizeMb: 256 } });
      worker.on('message', (reply: { ok: boolean; value?: unknown; error?: unknown }) => {
        const job = this.#busy.get(worker);
        this.#busy.delete(worker);
        if (job) poolChannel.publish({ op: 'done', queue: this, item: job, failed: !reply.ok });
        if (reply.ok) job?.resolve(reply.value);
        else job?.reject(reply.error);
        this.#idle.push(worker);
        this.#dispatch();
      });
      worker.on('error', (error) => {
        const job = this.#busy.get(worker);
        if (job) poolChannel.publish({ op: 'done', queue: this, item: job, failed: true });
        job?.reject(error);
      });
      this.#exited.push(new Promise((resolve) => worker.once('exit', resolve)));
      this.#workers.push(worker);
      this.#idle.push(worker);
    }
  }

  /** apply(): runs fn(*args) in a worker and waits for the result. */
  apply<T>(fn: TaskName, args: unknown[]): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('Pool not running'));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { fn, args, resolve: resolve as (value: unknown) => void, reject };
      this.#queue.push(job);
      poolChannel.publish({ op: 'enqueue', queue: this, item: job });
      this.#dispatch();
    });
  }

  /** apply_async(): the result is the promise (AsyncResult.get()); callbacks run in the main thread. */
  applyAsync<T>(fn: TaskName, args: unknown[], callback?: (value: T) => void, errorCallback?: (error: unknown) => void): Promise<T> {
    const result = this.apply<T>(fn, args);
    result.then(callback, errorCallback ?? (() => {})); // handled here, so an unawaited failure does not crash
    return result;
  }

  /** map(): results in input order. */
  map<T>(fn: TaskName, items: Iterable<unknown>): Promise<T[]> {
    return Promise.all(Array.from(items, (item) => this.apply<T>(fn, [item])));
  }

  /** close(): no new work; each worker exits once the queue is drained. */
  close(): void {
    this.#closed = true;
    this.#dispatch();
  }

  async join(): Promise<void> {
    if (!this.#closed) throw new Error('Pool is still running: close() it first');
    await Promise.all(this.#exited);
  }

  /** terminate(): stops the workers now, running tasks included. */
  async terminate(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.shift() as Worker;
      const job = this.#queue.shift() as Job;
      this.#busy.set(worker, job);
      poolChannel.publish({ op: 'start', queue: this, item: job, workerThreadId: worker.threadId });
      worker.postMessage({ fn: job.fn, args: job.args });
    }
    if (this.#closed && this.#queue.length === 0) for (const worker of this.#idle.splice(0)) worker.postMessage(null);
  }
}

async function main(): Promise<void> {
  const pool = new Pool(${2:2}, [2]); // Pool(processes=2, initializer=initializer, initargs=(2,))
  try {
    console.log(`apply(power, (7,)) -> ${await pool.apply('$1', [7])}`);
    await pool.applyAsync<number>('$1', [12], (value) => console.log(`apply_async callback -> ${value}`));
    console.log(`map(power, range(10)) -> ${JSON.stringify(await pool.map('$1', Array.from({ length: 10 }, (_, i) => i)))}`);
    await pool
      .applyAsync('$1', [-1], undefined, (error) => console.log(`error_callback -> ${(error as Error).message}`))
      .catch(() => {});
  } finally {
    // Python's `with Pool()` calls terminate() on exit; close() + join() lets queued work finish.
    pool.close();
    await pool.join();
  }
  console.log('pool closed and joined');
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const port = parentPort;
  if (!port) throw new Error('not a worker');
  initializer(...(workerData.initargs as [number]));
  port.on('message', (job: { fn: TaskName; args: [number] } | null) => {
    if (job === null) return port.close(); // the pool is closed: let this thread end
    try {
      port.postMessage({ ok: true, value: tasks[job.fn](...job.args) });
    } catch (error) {
      port.postMessage({ ok: false, error }); // errors travel as structured clones
    }
  });
}
