// asyncio.Lock → an async mutex (FIFO) for tasks in one thread; `async with lock:` → withLock().
const { setTimeout: sleep } = require('node:timers/promises');

class Lock {
  #locked = false;
  #waiters = [];

  locked() {
    return this.#locked;
  }

  async acquire() {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise((resolve) => this.#waiters.push(resolve)); // handed over by release()
  }

  release() {
    if (!this.#locked) throw new Error('Lock is not acquired');
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
