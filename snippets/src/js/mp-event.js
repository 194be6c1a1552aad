// multiprocessing.Event → an event kept by the parent; forked children wait on it over IPC
// (Node processes share no memory; the parent serialises, like Python's Manager().Event()).
const { fork } = require('node:child_process');
const { once } = require('node:events');

// ---- in the parent: the event ----
class Event {
  #flag = false;
  #waiters = new Set();

  get waiting() {
    return this.#waiters.size;
  }

  isSet() {
    return this.#flag;
  }

  set() {
    this.#flag = true;
    for (const wake of this.#waiters) wake(true);
    this.#waiters.clear();
  }

  clear() {
    this.#flag = false;
  }

  /** wait(timeout): true when the event is set, false when the timeout passed first. */
  wait(timeoutMs) {
    if (this.#flag) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer;
      const wake = (flag) => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(flag);
      };
      this.#waiters.add(wake);
      if (timeoutMs !== undefined) timer = setTimeout(() => wake(false), timeoutMs);
    });
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
const event = {
  wait: (timeoutMs) => call('wait', timeoutMs),
  isSet: () => call('isSet'),
};

async function child() {
  process.on('message', (reply) => {
    calls.get(reply.id)?.(reply);
    calls.delete(reply.id);
  });
  try {
    const woke = await event.wait(); // blocks until the parent calls set()
    await call('report', woke);$0
    const again = await event.wait(100); // the parent has cleared it by now: times out
    await call('report', again);
  } finally {
    process.disconnect();
  }
}

async function main() {
  const ${1:ready} = new Event();
  const count = 3;
  const firstWait = [];
  const secondWait = [];
  let released = () => {};
  const cleared = new Promise((resolve) => (released = resolve));
  const children = Array.from({ length: count }, () => {
    const child = fork(__filename, ['child']);
    serve(child, {
      wait: (_who, timeoutMs) => {
        const woke = $1.wait(timeoutMs);
        if (firstWait.length === 0 && $1.waiting === count) $1.set(); // all blocked in wait(): wake them
        return woke;
      },
      isSet: () => $1.isSet(),
      report: (_who, value) => {
        if (firstWait.length < count) {
          firstWait.push(value);
          if (firstWait.length === count) {
            console.log(`${count} processes blocked in wait(); set() woke them: ${firstWait.join(',')}`);
            $1.clear();
            released();
          }
          return cleared; // hold each child until the event is cleared
        }
        secondWait.push(value);
        return undefined;
      },
    });
    return child;
  });
  const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0]));
  console.log(`after clear(): is_set() -> ${$1.isSet()}, wait(timeout=0.1) -> ${secondWait.join(',')}`);
  console.log(`exit codes: ${codes.join(',')}`);
}

(process.argv[2] === 'child' ? child() : main()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
