// multiprocessing.Condition → a condition (with its lock) kept by the parent; forked children
// use it over IPC (Node processes share no memory; the parent serialises, like a Manager).
import { fork, type ChildProcess } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { once } from 'node:events';

// Publishing on diagnostics_channel makes a home-made lock visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. A lock that several
// processes use is published with the same `id` in each: the parent creates it (before it forks)
// and every process publishes its own waits, holds and releases from its proxy.
const lockChannel = channel('gridlock:lock');

// ---- in the parent: the lock, and the condition built on it ----
class Lock {
  readonly id: string;
  owner: number | undefined;
  #waiters: Array<{ who: number; grant: () => void }> = [];

  constructor(id: string) {
    this.id = id; // the same in every process: the children get it in their argv
    lockChannel.publish({ op: 'create', lock: this, id });
  }

  acquire(who: number): Promise<void> {
    if (this.owner === undefined) {
      this.owner = who;
      return Promise.resolve();
    }
    return new Promise((grant) => this.#waiters.push({ who, grant }));
  }

  release(who: number): void {
    if (this.owner !== who) throw new Error(`release() by ${who}, which does not hold the lock`);
    const next = this.#waiters.shift();
    this.owner = next?.who;
    next?.grant();
  }
}

class Condition {
  readonly lock: Lock;
  #waiters: Array<(notified: boolean) => void> = [];

  constructor(id: string) {
    this.lock = new Lock(id);
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** wait(timeout): releases the lock, sleeps until notified (or the timeout), re-acquires. */
  async wait(who: number, timeoutMs?: number): Promise<boolean> {
    this.lock.release(who); // throws unless `who` holds the lock, as in Python
    let timer: NodeJS.Timeout | undefined;
    const notified = await new Promise<boolean>((resolve) => {
      const wake = (value: boolean): void => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(value);
      };
      this.#waiters.push(wake);
      if (timeoutMs !== undefined) timer = setTimeout(() => wake(false), timeoutMs);
    });
    await this.lock.acquire(who);
    return notified;
  }

  notify(who: number, n = 1): void {
    if (this.lock.owner !== who) throw new Error('cannot notify on un-acquired lock');
    for (const wake of this.#waiters.slice(0, n)) wake(true);
  }

  notifyAll(who: number): void {
    this.notify(who, Infinity);
  }
}

type Handlers = Record<string, (who: number, arg?: unknown) => unknown>;

/** Answers a child's calls: each message { id, op, arg } gets { id, value } or { id, error }. */
function serve(child: ChildProcess, handlers: Handlers): void {
  const who = child.pid ?? -1;
  child.on('message', ({ id, op, arg }: { id: number; op: string; arg?: unknown }) => {
    Promise.resolve()
      .then(() => handlers[op](who, arg))
      .then((value) => ({ id, value }), (error: unknown) => ({ id, error: String(error) }))
      .then((reply) => child.connected && child.send(reply));
  });
}

// ---- in a child: a proxy that sends each call to the parent and awaits the reply ----
let nextId = 0;
const calls = new Map<number, (reply: { value?: unknown; error?: string }) => void>();
function call(op: string, arg?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    calls.set(id, (reply) => (reply.error === undefined ? resolve(reply.value) : reject(new Error(reply.error))));
    process.send?.({ id, op, arg });
  });
}

/** The condition as a process uses it, through `send`; the holds of its lock are published here. */
function conditionProxy(send: (op: string, arg?: unknown) => Promise<unknown>, id: string) {
  const proxy = {
    async acquire(): Promise<void> {
      lockChannel.publish({ op: 'wait', lock: proxy, id });
      await send('acquire');
      lockChannel.publish({ op: 'acquired', lock: proxy, id });
    },
    async release(): Promise<void> {
      lockChannel.publish({ op: 'release', lock: proxy, id });
      await send('release');
    },
    /** wait(timeout): the lock is given back while it sleeps, and held again when it returns. */
    async wait(timeoutMs?: number): Promise<boolean> {
      lockChannel.publish({ op: 'release', lock: proxy, id });
      const notified = (await send('wait', timeoutMs)) as boolean;
      lockChannel.publish({ op: 'acquired', lock: proxy, id });
      return notified;
    },
    async notifyAll(): Promise<void> {
      await send('notifyAll');
    },
  };
  return proxy;
}
const condition = conditionProxy(call, process.argv[3] ?? '');
const items = {
  count: () => call('count') as Promise<number>,
  take: () => call('take') as Promise<string>,
};

async function ${1:consume}(): Promise<string> {
  await condition.acquire(); // with condition:
  try {
    while ((await items.count()) === 0) await condition.wait(); // condition.wait_for(lambda: items)
    return await items.take();$0
  } finally {
    await condition.release();
  }
}

async function child(): Promise<void> {
  process.on('message', (reply: { id: number; value?: unknown; error?: string }) => {
    calls.get(reply.id)?.(reply);
    calls.delete(reply.id);
  });
  try {
    await call('report', await $1());
  } finally {
    process.disconnect();
  }
}

async function main(): Promise<void> {
  const PARENT = process.pid;
  const cond = new Condition(`mp.Condition ${PARENT}#1`);
  const store: string[] = []; // guarded by cond.lock
  const consumed: string[] = [];
  const count = 2;
  let produce: () => void = () => {};
  const allWaiting = new Promise<void>((resolve) => (produce = resolve));
  const handlers: Handlers = {
    acquire: (who) => cond.lock.acquire(who),
    release: (who) => cond.lock.release(who),
    wait: (who, timeoutMs) => {
      const notified = cond.wait(who, timeoutMs as number | undefined);
      if (cond.waiting === count) produce();
      return notified;
    },
    notifyAll: (who) => cond.notifyAll(who),
    count: (who) => {
      if (cond.lock.owner !== who) throw new Error('read without holding the lock');
      return store.length;
    },
    take: (who) => {
      if (cond.lock.owner !== who) throw new Error('take without holding the lock');
      return store.shift();
    },
    report: (_who, item) => consumed.push(item as string),
  };
  const children = Array.from({ length: count }, () => {
    const child = fork(__filename, ['child', cond.lock.id]);
    serve(child, handlers);
    return child;
  });

  // The parent uses the condition through a proxy too (calling the handlers directly), so its
  // holds of the lock are published like the children's.
  const mine = conditionProxy(async (op, arg) => handlers[op](PARENT, arg), cond.lock.id);
  await allWaiting; // both consumers sleep in wait(): produce under the lock, then notify_all()
  await mine.acquire();
  try {
    store.push('item-1', 'item-2');
    await mine.notifyAll();
  } finally {
    await mine.release();
  }
  const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0] as number));
  console.log(`${count} consumers woken by notify_all() took: ${consumed.sort().join(',')}`);
  console.log(`exit codes: ${codes.join(',')}`);
}

(process.argv[2] === 'child' ? child() : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
