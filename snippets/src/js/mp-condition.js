// multiprocessing.Condition → a condition (with its lock) kept by the parent; forked children
// use it over IPC (Node processes share no memory; the parent serialises, like a Manager).
const { fork } = require('node:child_process');
const { channel } = require('node:diagnostics_channel');
const { once } = require('node:events');

// Publishing on diagnostics_channel makes a home-made lock visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. A lock that several
// processes use is published with the same `id` in each: the parent creates it (before it forks)
// and every process publishes its own waits, holds and releases from its proxy.
const lockChannel = channel('gridlock:lock');

// ---- in the parent: the lock, and the condition built on it ----
class Lock {
  #waiters = [];

  constructor(id) {
    this.id = id; // the same in every process: the children get it in their argv
    lockChannel.publish({ op: 'create', lock: this, id });
  }

  acquire(who) {
    if (this.owner === undefined) {
      this.owner = who;
      return Promise.resolve();
    }
    return new Promise((grant) => this.#waiters.push({ who, grant }));
  }

  release(who) {
    if (this.owner !== who) throw new Error(`release() by ${who}, which does not hold the lock`);
    const next = this.#waiters.shift();
    this.owner = next?.who;
    next?.grant();
  }
}

class Condition {
  #waiters = [];

  constructor(id) {
    this.lock = new Lock(id);
  }

  get waiting() {
    return this.#waiters.length;
  }

  /** wait(timeout): releases the lock, sleeps until notified (or the timeout), re-acquires. */
  async wait(who, timeoutMs) {
    this.lock.release(who); // throws unless `who` holds the lock, as in Python
    let timer;
    const notified = await new Promise((resolve) => {
      const wake = (value) => {
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

  notify(who, n = 1) {
    if (this.lock.owner !== who) throw new Error('cannot notify on un-acquired lock');
    for (const wake of this.#waiters.slice(0, n)) wake(true);
  }

  notifyAll(who) {
    this.notify(who, Infinity);
  }
}

/** Answers a child's calls: each message { id, op, arg } gets { id, value } or { id, error }. */
function serve(child, handlers) {
  const who = child.pid ?? -1;
  child.on('message', ({ id, op, arg }) => {
    Promise.resolve()
      .then(() => handlers[op](who, arg))
      .then((value) => ({ id, value }), (error) => ({ id, error: String(error) }))
      .then((reply) => child.connected && child.send(reply));
  });
}

// ---- in a child: a proxy that sends each call to the parent and awaits the reply ----
let nextId = 0;
const calls = new Map();
function call(op, arg) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    calls.set(id, (reply) => (reply.error === undefined ? resolve(reply.value) : reject(new Error(reply.error))));
    process.send?.({ id, op, arg });
  });
}

/** The condition as a process uses it, through `send`; the holds of its lock are published here. */
function conditionProxy(send, id) {
  const proxy = {
    async acquire() {
      lockChannel.publish({ op: 'wait', lock: proxy, id });
      await send('acquire');
      lockChannel.publish({ op: 'acquired', lock: proxy, id });
    },
    async release() {
      lockChannel.publish({ op: 'release', lock: proxy, id });
      await send('release');
    },
    /** wait(timeout): the lock is given back while it sleeps, and held again when it returns. */
    async wait(timeoutMs) {
      lockChannel.publish({ op: 'release', lock: proxy, id });
      const notified = await send('wait', timeoutMs);
      lockChannel.publish({ op: 'acquired', lock: proxy, id });
      return notified;
    },
    async notifyAll() {
      await send('notifyAll');
    },
  };
  return proxy;
}
const condition = conditionProxy(call, process.argv[3]);
const items = {
  count: () => call('count'),
  take: () => call('take'),
};

async function ${1:consume}() {
  await condition.acquire(); // with condition:
  try {
    while ((await items.count()) === 0) await condition.wait(); // condition.wait_for(lambda: items)
    return await items.take();$0
  } finally {
    await condition.release();
  }
}

async function child() {
  process.on('message', (reply) => {
    calls.get(reply.id)?.(reply);
    calls.delete(reply.id);
  });
  try {
    await call('report', await $1());
  } finally {
    process.disconnect();
  }
}

async function main() {
  const PARENT = process.pid;
  const cond = new Condition(`mp.Condition ${PARENT}#1`);
  const store = []; // guarded by cond.lock
  const consumed = [];
  const count = 2;
  let produce = () => {};
  const allWaiting = new Promise((resolve) => (produce = resolve));
  const handlers = {
    acquire: (who) => cond.lock.acquire(who),
    release: (who) => cond.lock.release(who),
    wait: (who, timeoutMs) => {
      const notified = cond.wait(who, timeoutMs);
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
    report: (_who, item) => consumed.push(item),
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
  const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0]));
  console.log(`${count} consumers woken by notify_all() took: ${consumed.sort().join(',')}`);
  console.log(`exit codes: ${codes.join(',')}`);
}

(process.argv[2] === 'child' ? child() : main()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
