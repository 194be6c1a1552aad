// gevent.spawn / joinall / Greenlet → async functions on Node's event loop, which already does
// what gevent's monkey-patched, non-blocking I/O does (no patching needed).
import { setTimeout as sleep } from 'node:timers/promises';

class GreenletExit extends Error {
  override name = 'GreenletExit';
}

class Greenlet<T> {
  value: T | undefined;
  exception: unknown;
  readonly done: Promise<void>;
  #ready = false;
  #controller = new AbortController();

  constructor(fn: (signal: AbortSignal) => Promise<T>) {
    this.done = fn(this.#controller.signal).then(
      (value) => {
        this.value = value;
      },
      (error: unknown) => {
        this.exception = this.#controller.signal.aborted ? new GreenletExit() : error;
      },
    );
    void this.done.finally(() => (this.#ready = true));
  }

  ready(): boolean {
    return this.#ready;
  }

  successful(): boolean {
    return this.#ready && this.exception === undefined;
  }

  /** kill(): cooperative, through the signal the greenlet passes to what it awaits. */
  async kill(): Promise<void> {
    this.#controller.abort();
    await this.done;
  }

  join(timeoutMs?: number): Promise<void> {
    return joinall([this], { timeoutMs }).then(() => {});
  }
}

/** gevent.spawn(fn, *args): starts at once (there is no gevent.sleep(0) needed to let it run). */
function spawn<T, A extends unknown[]>(fn: (signal: AbortSignal, ...args: A) => Promise<T>, ...args: A): Greenlet<T> {
  return new Greenlet((signal) => fn(signal, ...args));
}

/** gevent.joinall(greenlets, timeout): the greenlets that finished in time. */
async function joinall<T>(greenlets: Array<Greenlet<T>>, { timeoutMs = Infinity }: { timeoutMs?: number } = {}): Promise<Array<Greenlet<T>>> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    if (timeoutMs !== Infinity) timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([Promise.all(greenlets.map((g) => g.done)), timedOut]);
  } finally {
    clearTimeout(timer);
  }
  return greenlets.filter((g) => g.ready());
}

async function ${1:fetch}(signal: AbortSignal, url: string, ms: number): Promise<string> {
  await sleep(ms, undefined, { signal }); // gevent.sleep / any I/O: other greenlets run meanwhile
  return `${url}: ok`;$0
}

async function main(): Promise<void> {
  const jobs = [spawn($1, 'a', 30), spawn($1, 'b', 10), spawn($1, 'c', 20)];
  await joinall(jobs);
  console.log(`joinall -> ${jobs.map((g) => g.value).join(', ')}`);

  const slow = spawn($1, 'slow', 10_000);
  const finished = await joinall([slow], { timeoutMs: ${2:50} });
  console.log(`joinall(timeout=0.05) -> ${finished.length} finished, ready() -> ${slow.ready()}`);
  await slow.kill();
  console.log(`kill() -> ready() ${slow.ready()}, successful() ${slow.successful()}, exception ${(slow.exception as Error).name}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
