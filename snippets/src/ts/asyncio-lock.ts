// asyncio.Lock → an async mutex (FIFO) for tasks in one thread; `async with lock:` → withLock().
import { setTimeout as sleep } from 'node:timers/promises';

class Lock {
  #locked = false;
  #waiters: Array<() => void> = [];

  locked(): boolean {
    return this.#locked;
  }

  async acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve)); // handed over by release()
  }

  release(): void {
    if (!this.#locked) throw new Error('Lock is not acquired');
    const next = this.#waiters.shift();
    if (next) next(); // stays locked: ownership passes to the next waiter, in FIFO order
    else this.#locked = false;
  }
}

/** `async with lock:` — released on every path. */
async function withLock<T>(lock: Lock, fn: () => Promise<T>): Promise<T> {
  await lock.acquire();
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

const account = { balance: 0 };

async function ${1:deposit}(amount: number): Promise<void> {
  const balance = account.balance; // read
  await sleep(5); // another task runs here
  account.balance = balance + amount; // write: without the lock, one deposit overwrites the other$0
}

async function main(): Promise<void> {
  await Promise.all([$1(100), $1(100)]);
  console.log(`without a lock: balance = ${account.balance} (one deposit lost)`);

  account.balance = 0;
  const lock = new Lock();
  await Promise.all([withLock(lock, () => $1(100)), withLock(lock, () => $1(100))]);
  console.log(`with asyncio.Lock: balance = ${account.balance}, locked() -> ${lock.locked()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
