// asyncio.Lock → an async mutex (FIFO) for tasks in one thread; `async with lock:` → withLock().
import { channel } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';

// Publishing on diagnostics_channel makes a home-made lock visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens.
const lockChannel = channel('gridlock:lock');

class Lock {
  #locked = false;
  #waiters: Array<() => void> = [];

  constructor() {
    lockChannel.publish({ op: 'create', lock: this });
  }

  locked(): boolean {
    return this.#locked;
  }

  async acquire(): Promise<void> {
    if (this.#locked) {
      lockChannel.publish({ op: 'wait', lock: this });
      await new Promise<void>((resolve) => this.#waiters.push(resolve)); // handed over by release()
    } else {
      this.#locked = true;
    }
    lockChannel.publish({ op: 'acquired', lock: this });
  }

  release(): void {
    if (!this.#locked) throw new Error('Lock is not acquired');
    lockChannel.publish({ op: 'release', lock: this });
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
