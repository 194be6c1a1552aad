// asyncio.Semaphore → an async counting semaphore: at most N tasks inside at once.
import { channel } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';

// Publishing on diagnostics_channel makes a home-made semaphore visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens.
const lockChannel = channel('gridlock:lock');

class Semaphore {
  #value: number;
  #waiters: Array<() => void> = [];

  constructor(value = 1) {
    this.#value = value;
    lockChannel.publish({ op: 'create', lock: this, kind: 'semaphore', capacity: value });
  }

  locked(): boolean {
    return this.#value === 0;
  }

  async acquire(): Promise<void> {
    if (this.#value > 0) {
      this.#value -= 1;
    } else {
      lockChannel.publish({ op: 'wait', lock: this, permits: 1 });
      await new Promise<void>((resolve) => this.#waiters.push(resolve)); // handed a permit by release()
    }
    lockChannel.publish({ op: 'acquired', lock: this, permits: 1 });
  }

  release(): void {
    lockChannel.publish({ op: 'release', lock: this, permits: 1 });
    const next = this.#waiters.shift();
    if (next) next();
    else this.#value += 1;
  }
}

/** `async with semaphore:` — released on every path. */
async function withSemaphore<T>(semaphore: Semaphore, fn: () => Promise<T>): Promise<T> {
  await semaphore.acquire();
  try {
    return await fn();
  } finally {
    semaphore.release();
  }
}

let inside = 0;
let mostInside = 0;

async function ${1:download}(n: number): Promise<number> {
  inside += 1;
  mostInside = Math.max(mostInside, inside);
  try {
    await sleep(10); // a request to a rate-limited server$0
    return n;
  } finally {
    inside -= 1;
  }
}

async function main(): Promise<void> {
  const semaphore = new Semaphore(${2:2});
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => withSemaphore(semaphore, () => $1(n))));
  console.log(`6 tasks, Semaphore(2): results ${JSON.stringify(results)}, at most ${mostInside} inside at once`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
