// multiprocessing.Semaphore → a counting semaphore kept by the parent, used by forked children
// over IPC (Node processes share no memory; the parent serialises, like Python's Manager).
import { fork, type ChildProcess } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

// Publishing on diagnostics_channel makes a home-made semaphore visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. A semaphore that several
// processes use is published with the same `id` in each: the parent creates it (before it forks)
// and every process publishes its own waits, holds and releases from its proxy.
const lockChannel = channel('gridlock:lock');

// ---- in the parent: the semaphore (FIFO), and who holds its permits ----
class Semaphore {
  readonly id: string;
  #value: number;
  #holders: number[] = [];
  #waiters: Array<{ who: number; grant: () => void }> = [];

  constructor(value: number, id: string) {
    this.#value = value;
    this.id = id; // the same in every process: the children get it in their argv
    lockChannel.publish({ op: 'create', lock: this, id, kind: 'semaphore', capacity: value });
  }

  acquire(who: number): Promise<void> {
    if (this.#value > 0) {
      this.#value -= 1;
      this.#holders.push(who);
      return Promise.resolve();
    }
    return new Promise((grant) => this.#waiters.push({ who, grant }));
  }

  release(who: number): void {
    const i = this.#holders.indexOf(who);
    if (i < 0) throw new Error(`release() by ${who}, which holds no permit`); // like BoundedSemaphore
    this.#holders.splice(i, 1);
    const next = this.#waiters.shift();
    if (next) {
      this.#holders.push(next.who);
      next.grant();
    } else {
      this.#value += 1;
    }
  }

  /** A process that exits leaves the queue and gives back its permits. */
  forget(who: number): void {
    this.#waiters = this.#waiters.filter((waiter) => waiter.who !== who);
    while (this.#holders.includes(who)) this.release(who);
  }
}

/** Answers a child's calls: each message { id, op, arg } gets { id, value } or { id, error }. */
function serve(child: ChildProcess, handlers: Record<string, (who: number, arg?: unknown) => unknown>): void {
  const who = child.pid ?? -1;
  child.on('message', ({ id, op, arg }: { id: number; op: string; arg?: unknown }) => {
    Promise.resolve()
      .then(() => handlers[op](who, arg))
      .then((value) => ({ id, value }), (error: unknown) => ({ id, error: String(error) }))
      .then((reply) => child.connected && child.send(reply));
  });
}

// ---- in a child: a proxy that sends each call to the parent and awaits the reply ----
let nextId = 0;
const calls = new Map<number, (reply: { value?: unknown; error?: string }) => void>();
function call(op: string, arg?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    calls.set(id, (reply) => (reply.error === undefined ? resolve(reply.value) : reject(new Error(reply.error))));
    process.send?.({ id, op, arg });
  });
}
const semaphore = {
  id: process.argv[3] ?? '', // the parent's semaphore id
  async acquire(): Promise<void> {
    lockChannel.publish({ op: 'wait', lock: semaphore, id: semaphore.id, permits: 1 });
    await call('acquire');
    lockChannel.publish({ op: 'acquired', lock: semaphore, id: semaphore.id, permits: 1 });
  },
  async release(): Promise<void> {
    lockChannel.publish({ op: 'release', lock: semaphore, id: semaphore.id, permits: 1 });
    await call('release');
  },
};

/** The work that at most N processes may do at once. */
async function ${1:work}(): Promise<void> {
  await sleep(150);$0
}

async function child(): Promise<void> {
  process.on('message', (reply: { id: number; value?: unknown; error?: string }) => {
    calls.get(reply.id)?.(reply);
    calls.delete(reply.id);
  });
  try {
    await call('ready'); // start together, so the children really compete for the permits
    await semaphore.acquire();
    try {
      await call('enter');
      await $1();
      await call('leave');
    } finally {
      await semaphore.release();
    }
  } finally {
    process.disconnect();
  }
}

async function main(): Promise<void> {
  const permits = ${2:2};
  const count = 4;
  const shared = new Semaphore(permits, `mp.Semaphore ${process.pid}#1`); // Semaphore(2)
  let inside = 0;
  let maxInside = 0;
  let ready = 0;
  let allReady: () => void = () => {};
  const started = new Promise<void>((resolve) => (allReady = resolve));
  const children = Array.from({ length: count }, () => {
    const child = fork(__filename, ['child', shared.id]);
    serve(child, {
      ready: () => {
        if (++ready === count) allReady();
        return started;
      },
      acquire: (who) => shared.acquire(who),
      release: (who) => shared.release(who),
      enter: () => (maxInside = Math.max(maxInside, ++inside)),
      leave: () => --inside,
    });
    child.once('exit', () => shared.forget(child.pid ?? -1));
    return child;
  });
  const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0] as number));
  console.log(`${count} processes, Semaphore(${permits}): at most ${maxInside} inside at once`);
  console.log(`exit codes: ${codes.join(',')}`);
}

(process.argv[2] === 'child' ? child() : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
