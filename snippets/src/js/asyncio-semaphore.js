// asyncio.Semaphore → an async counting semaphore: at most N tasks inside at once.
const { setTimeout: sleep } = require('node:timers/promises');

class Semaphore {
  #value;
  #waiters = [];

  constructor(value = 1) {
    this.#value = value;
  }

  locked() {
    return this.#value === 0;
  }

  async acquire() {
    if (this.#value > 0) {
      this.#value -= 1;
      return;
    }
    await new Promise((resolve) => this.#waiters.push(resolve)); // handed a permit by release()
  }

  release() {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#value += 1;
  }
}

/** `async with semaphore:` — released on every path. */
async function withSemaphore(semaphore, fn) {
  await semaphore.acquire();
  try {
    return await fn();
  } finally {
    semaphore.release();
  }
}

let inside = 0;
let mostInside = 0;

async function ${1:download}(n) {
  inside += 1;
  mostInside = Math.max(mostInside, inside);
  try {
    await sleep(10); // a request to a rate-limited server$0
    return n;
  } finally {
    inside -= 1;
  }
}

async function main() {
  const semaphore = new Semaphore(${2:2});
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => withSemaphore(semaphore, () => $1(n))));
  console.log(`6 tasks, Semaphore(2): results ${JSON.stringify(results)}, at most ${mostInside} inside at once`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
