// multiprocessing.Semaphore → a counting semaphore kept by the parent, used by forked children
// over IPC (Node processes share no memory; the parent serialises, like Python's Manager).
const { fork } = require('node:child_process');
const { channel } = require('node:diagnostics_channel');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');

// Publishing on diagnostics_channel makes a home-made semaphore visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. A semaphore that several
// processes use is published with the same `id` in each: the parent creates it (before it forks)
// and every process publishes its own waits, holds and releases from its proxy.
const lockChannel = channel('gridlock:lock');

// ---- in the parent: the semaphore (FIFO), and who holds its permits ----
class Semaphore {
  #value;
  #holders = [];
  #waiters = [];

  constructor(value, id) {
    this.#value = value;
    this.id = id; // the same in every process: the children get it in their argv
    lockChannel.publish({ op: 'create', lock: this, id, kind: 'semaphore', capacity: value });
  }

  acquire(who) {
    if (this.#value > 0) {
      this.#value -= 1;
      this.#holders.push(who);
      return Promise.resolve();
    }
    return new Promise((grant) => this.#waiters.push({ who, grant }));
  }

  release(who) {
    const i = this.#holders.indexOf(who);
    if (i < 0) throw new Error(`release() by ${who}, which holds no permit`); // like BoundedSemaphore
    this.#holders.splice(i, 1);
    const next = this.#waiters.shift();
    if (next) {
      this.#holders.push(next.who);
      next.grant();
    } else {
      this.#value += 1;
    }
  }

  /** A process that exits leaves the queue and gives back its permits. */
  forget(who) {
    this.#waiters = this.#waiters.filter((waiter) => waiter.who !== who);
    while (this.#holders.includes(who)) this.release(who);
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
const semaphore = {
  id: process.argv[3], // the parent's semaphore id
  async acquire() {
    lockChannel.publish({ op: 'wait', lock: semaphore, id: semaphore.id, permits: 1 });
    await call('acquire');
    lockChannel.publish({ op: 'acquired', lock: semaphore, id: semaphore.id, permits: 1 });
  },
  async release() {
    lockChannel.publish({ op: 'release', lock: semaphore, id: semaphore.id, permits: 1 });
    await call('release');
  },
};

/** The work that at most N processes may do at once. */
async function ${1:work}() {
  await sleep(150);$0
}

async function child() {
  process.on('message', (reply) => {
    calls.get(reply.id)?.(reply);
    calls.delete(reply.id);
  });
  try {
    await call('ready'); // start together, so the children really compete for the permits
    await semaphore.acquire();
    try {
      await call('enter');
      await $1();
      await call('leave');
    } finally {
      await semaphore.release();
    }
  } finally {
    process.disconnect();
  }
}

async function main() {
  const permits = ${2:2};
  const count = 4;
  const shared = new Semaphore(permits, `mp.Semaphore ${process.pid}#1`); // Semaphore(2)
  let inside = 0;
  let maxInside = 0;
  let ready = 0;
  let allReady = () => {};
  const started = new Promise((resolve) => (allReady = resolve));
  const children = Array.from({ length: count }, () => {
    const child = fork(__filename, ['child', shared.id]);
    serve(child, {
      ready: () => {
        if (++ready === count) allReady();
        return started;
      },
      acquire: (who) => shared.acquire(who),
      release: (who) => shared.release(who),
      enter: () => (maxInside = Math.max(maxInside, ++inside)),
      leave: () => --inside,
    });
    child.once('exit', () => shared.forget(child.pid ?? -1));
    return child;
  });
  const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0]));
  console.log(`${count} processes, Semaphore(${permits}): at most ${maxInside} inside at once`);
  console.log(`exit codes: ${codes.join(',')}`);
}

(process.argv[2] === 'child' ? child() : main()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
