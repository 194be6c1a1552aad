// asyncio.Lock → an async mutex (FIFO) for tasks in one thread; `async with lock:` → withLock().
const { channel } = require('node:diagnostics_channel');
const { setTimeout: sleep } = require('node:timers/promises');

// Publishing on diagnostics_channel makes a home-made lock visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens.
const lockChannel = channel('gridlock:lock');

class Lock {
  #locked = false;
  #waiters = [];

  constructor() {
    lockChannel.publish({ op: 'create', lock: this });
  }

  locked() {
    return this.#locked;
  }

  async acquire() {
    if (this.#locked) {
      lockChannel.publish({ op: 'wait', lock: this });
      await new Promise((resolve) => this.#waiters.push(resolve)); // handed over by release()
    } else {
      this.#locked = true;
    }
    lockChannel.publish({ op: 'acquired', lock: this });
  }

  release() {
    if (!this.#locked) throw new Error('Lock is not acquired');
    lockChannel.publish({ op: 'release', lock: this });
    const next = this.#waiters.shift();
    if (next) next(); // stays locked: ownership passes to the next waiter, in FIFO order
    else this.#locked = false;
  }
}

/** `async with lock:` — released on every path. */
async function withLock(lock, fn) {
  await lock.acquire();
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

const account = { balance: 0 };

async function ${1:deposit}(amount) {
  const balance = account.balance; // read
  await sleep(5); // another task runs here
  account.balance = balance + amount; // write: without the lock, one deposit overwrites the other$0
}

async function main() {
  await Promise.all([$1(100), $1(100)]);
  console.log(`without a lock: balance = ${account.balance} (one deposit lost)`);

  account.balance = 0;
  const lock = new Lock();
  await Promise.all([withLock(lock, () => $1(100)), withLock(lock, () => $1(100))]);
  console.log(`with asyncio.Lock: balance = ${account.balance}, locked() -> ${lock.locked()}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
