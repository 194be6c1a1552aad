// multiprocessing.Condition → a condition (with its lock) kept by the parent; forked children
// use it over IPC (Node processes share no memory; the parent serialises, like a Manager).
const { fork } = require('node:child_process');
const { once } = require('node:events');

// ---- in the parent: the lock, and the condition built on it ----
class Lock {
  #waiters = [];

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
  lock = new Lock();
  #waiters = [];

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
const condition = {
  acquire: () => call('acquire'),
  release: () => call('release'),
  wait: (timeoutMs) => call('wait', timeoutMs),
};
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
  const cond = new Condition();
  const store = []; // guarded by cond.lock
  const consumed = [];
  const count = 2;
  let produce = () => {};
  const allWaiting = new Promise((resolve) => (produce = resolve));
  const children = Array.from({ length: count }, () => {
    const child = fork(__filename, ['child']);
    serve(child, {
      acquire: (who) => cond.lock.acquire(who),
      release: (who) => cond.lock.release(who),
      wait: (who, timeoutMs) => {
        const notified = cond.wait(who, timeoutMs);
        if (cond.waiting === count) produce();
        return notified;
      },
      count: (who) => {
        if (cond.lock.owner !== who) throw new Error('read without holding the lock');
        return store.length;
      },
      take: (who) => {
        if (cond.lock.owner !== who) throw new Error('take without holding the lock');
        return store.shift();
      },
      report: (_who, item) => consumed.push(item),
    });
    return child;
  });

  await allWaiting; // both consumers sleep in wait(): produce under the lock, then notify_all()
  await cond.lock.acquire(PARENT);
  try {
    store.push('item-1', 'item-2');
    cond.notifyAll(PARENT);
  } finally {
    cond.lock.release(PARENT);
  }
  const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0]));
  console.log(`${count} consumers woken by notify_all() took: ${consumed.sort().join(',')}`);
  console.log(`exit codes: ${codes.join(',')}`);
}

(process.argv[2] === 'child' ? child() : main()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
