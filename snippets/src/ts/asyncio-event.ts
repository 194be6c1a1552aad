// asyncio.Event → an async event: wait() resolves once set() is called; clear() resets it.
import { setTimeout as sleep } from 'node:timers/promises';

class Event {
  #flag = false;
  #waiters: Array<() => void> = [];

  isSet(): boolean {
    return this.#flag;
  }

  set(): void {
    this.#flag = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  clear(): void {
    this.#flag = false;
  }

  async wait(): Promise<true> {
    if (!this.#flag) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return true;
  }
}

/** asyncio.wait_for(event.wait(), timeout): false instead of TimeoutError. */
async function waitFor(event: Event, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
  try {
    return await Promise.race([event.wait(), timedOut]);
  } finally {
    clearTimeout(timer); // a forgotten timer keeps the process alive
  }
}

async function ${1:waiter}(name: string, event: Event, log: string[]): Promise<void> {
  await event.wait();
  log.push(name);$0
}

async function main(): Promise<void> {
  const event = new Event();
  const log: string[] = [];
  const waiters = [$1('a', event, log), $1('b', event, log), $1('c', event, log)];
  await sleep(10);
  console.log(`before set(): is_set() -> ${event.isSet()}, woken: ${log.length}`);
  event.set();
  await Promise.all(waiters);
  console.log(`after set(): woken ${log.join(',')}`);
  event.clear();
  console.log(`after clear(): wait_for(wait(), 0.05) -> ${await waitFor(event, ${2:50})}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
