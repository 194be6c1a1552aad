// asyncio.Event → an async event: wait() resolves once set() is called; clear() resets it.
const { setTimeout: sleep } = require('node:timers/promises');

class Event {
  #flag = false;
  #waiters = [];

  isSet() {
    return this.#flag;
  }

  set() {
    this.#flag = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  clear() {
    this.#flag = false;
  }

  async wait() {
    if (!this.#flag) await new Promise((resolve) => this.#waiters.push(resolve));
    return true;
  }
}

/** asyncio.wait_for(event.wait(), timeout): false instead of TimeoutError. */
async function waitFor(event, timeoutMs) {
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
  try {
    return await Promise.race([event.wait(), timedOut]);
  } finally {
    clearTimeout(timer); // a forgotten timer keeps the process alive
  }
}

async function ${1:waiter}(name, event, log) {
  await event.wait();
  log.push(name);$0
}

async function main() {
  const event = new Event();
  const log = [];
  const waiters = [$1('a', event, log), $1('b', event, log), $1('c', event, log)];
  await sleep(10);
  console.log(`before set(): is_set() -> ${event.isSet()}, woken: ${log.length}`);
  event.set();
  await Promise.all(waiters);
  console.log(`after set(): woken ${log.join(',')}`);
  event.clear();
  console.log(`after clear(): wait_for(wait(), 0.05) -> ${await waitFor(event, ${2:50})}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
