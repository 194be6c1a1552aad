// multiprocessing.Manager().Queue() → a queue kept by the parent (the "manager") that forked
// children reach over IPC: producers put, a consumer gets (blocking, with timeouts).
import { fork, type ChildProcess } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { once } from 'node:events';

// Publishing on diagnostics_channel makes a home-made queue visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. The parent publishes: an
// item is enqueued by put() and done when get() takes it out (there is no task_done() here).
const queueChannel = channel('gridlock:queue');

class Empty extends Error {
  override name = 'Empty';
}

// ---- in the parent: an async queue, bounded by maxsize ----
class Queue {
  readonly maxsize: number;
  #items: unknown[] = [];
  #getters: Array<() => void> = [];
  #putters: Array<() => void> = [];
  // Items are numbered on the channel, so equal values stay distinct (FIFO: the n-th get takes the n-th put).
  #published = { put: 0, get: 0 };

  constructor(maxsize = Infinity) {
    this.maxsize = maxsize;
    queueChannel.publish({ op: 'create', queue: this, kind: 'queue' });
  }

  async put(item: unknown): Promise<void> {
    while (this.#items.length >= this.maxsize) await Queue.#wait(this.#putters);
    this.#items.push(item);
    queueChannel.publish({ op: 'enqueue', queue: this, item: ++this.#published.put });
    this.#getters.shift()?.();
  }

  async get(timeoutMs?: number): Promise<unknown> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    while (this.#items.length === 0) {
      if (!(await Queue.#wait(this.#getters, deadline - Date.now()))) throw new Empty();
    }
    const item = this.#items.shift();
    queueChannel.publish({ op: 'done', queue: this, item: ++this.#published.get });
    this.#putters.shift()?.();
    return item;
  }

  qsize(): number {
    return this.#items.length;
  }

  /** Waits for a wake-up from `list`; false after timeoutMs. */
  static #wait(list: Array<() => void>, timeoutMs = Infinity): Promise<boolean> {
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      list.push(wake);
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => {
          list.splice(list.indexOf(wake), 1);
          resolve(false);
        }, timeoutMs);
      }
    });
  }
}

/** Answers a child's calls: each message { id, op, arg } gets { id, value } or { id, error }. */
function serve(child: ChildProcess, handlers: Record<string, (who: number, arg?: unknown) => unknown>): void {
  const who = child.pid ?? -1;
  child.on('message', ({ id, op, arg }: { id: number; op: string; arg?: unknown }) => {
    Promise.resolve()
      .then(() => handlers[op](who, arg))
      .then((value) => ({ id, value }), (error: unknown) => ({ id, error: error instanceof Error ? error.name : String(error) }))
      .then((reply) => child.connected && child.send(reply));
  });
}

// ---- in a child: the queue proxy ----
let nextId = 0;
const calls = new Map<number, (reply: { value?: unknown; error?: string }) => void>();
function call(op: string, arg?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    calls.set(id, (reply) => (reply.error === undefined ? resolve(reply.value) : reject(new Error(reply.error))));
    process.send?.({ id, op, arg });
  });
}
const queue = {
  put: (item: unknown) => call('put', item) as Promise<void>,
  get: (timeoutMs?: number) => call('get', timeoutMs),
};

async function child(role: string, id: number): Promise<void> {
  process.on('message', (reply: { id: number; value?: unknown; error?: string }) => {
    calls.get(reply.id)?.(reply);
    calls.delete(reply.id);
  });
  try {
    if (role === 'producer') {
      for (let n = 0; n < 3; n++) await queue.put(`${id}-${n}`); // waits while the queue is full
    } else {
      const got: unknown[] = [];
      for (let i = 0; i < 6; i++) got.push(await queue.get(5000));
      await call('report', got);
      await queue.get(100).catch((error: Error) => call('report', `get(timeout=0.1) on the empty queue -> ${error.message}`));
    }
  } finally {
    process.disconnect();
  }
}

async function main(): Promise<void> {
  const ${1:queue} = new Queue(${2:2}); // manager.Queue(maxsize=2)
  const reports: unknown[] = [];
  const roles = ['producer', 'producer', 'consumer'];
  const children = roles.map((role, id) => {
    const child = fork(__filename, ['child', role, String(id)]);
    serve(child, {
      put: (_who, item) => $1.put(item),
      get: (_who, timeoutMs) => $1.get(timeoutMs as number | undefined),
      report: (_who, value) => reports.push(value),$0
    });
    return child;
  });
  const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0] as number));
  console.log(`consumer got: ${(reports[0] as string[]).sort().join(',')}`);
  console.log(String(reports[1]));
  console.log(`exit codes: ${codes.join(',')}`);
}

(process.argv[2] === 'child' ? child(process.argv[3] ?? '', Number(process.argv[4])) : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
