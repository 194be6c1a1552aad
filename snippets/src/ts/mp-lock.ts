// multiprocessing.Lock → a lock kept by the parent and granted to forked children over IPC.
// Node processes share no memory (no OS semaphore to share), so the parent serialises: the same
// design as Python's Manager().Lock().
import { fork, type ChildProcess } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Publishing on diagnostics_channel makes a home-made lock visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens. A lock that several
// processes use is published with the same `id` in each: the parent creates it (before it forks)
// and every process publishes its own waits, holds and releases from its proxy.
const lockChannel = channel('gridlock:lock');

// ---- in the parent: the lock, FIFO, with acquire(timeout) ----
class Lock {
  readonly id: string;
  #owner: number | undefined;
  #waiters: Array<{ who: number; grant: (ok: boolean) => void }> = [];

  constructor(id: string) {
    this.id = id; // the same in every process: the children get it in their argv
    lockChannel.publish({ op: 'create', lock: this, id });
  }

  acquire(who: number, timeoutMs?: number): Promise<boolean> {
    if (this.#owner === undefined) {
      this.#owner = who;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        who,
        grant: (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      this.#waiters.push(waiter);
      if (timeoutMs !== undefined) timer = setTimeout(() => this.#leave(waiter), timeoutMs);
    });
  }

  release(who: number): void {
    if (this.#owner !== who) throw new Error(`release() by ${who}, which does not hold the lock`);
    const next = this.#waiters.shift();
    this.#owner = next?.who;
    next?.grant(true);
  }

  /** A process that exits leaves the queue, and gives the lock back if it held it. */
  forget(who: number): void {
    this.#waiters = this.#waiters.filter((waiter) => waiter.who !== who);
    if (this.#owner === who) this.release(who);
  }

  /** acquire() timed out: leave the queue and answer false. */
  #leave(waiter: { grant: (ok: boolean) => void }): void {
    const i = this.#waiters.findIndex((w) => w === waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
    waiter.grant(false);
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
const lock = {
  id: process.argv[4] ?? '', // the parent's lock id
  async acquire(timeoutMs?: number): Promise<boolean> {
    lockChannel.publish({ op: 'wait', lock, id: lock.id, timeoutMs });
    const ok = (await call('acquire', timeoutMs)) as boolean;
    if (ok) lockChannel.publish({ op: 'acquired', lock, id: lock.id });
    else lockChannel.publish({ op: 'wait-ended', lock, id: lock.id, reason: 'timeout' });
    return ok;
  },
  async release(): Promise<void> {
    lockChannel.publish({ op: 'release', lock, id: lock.id });
    await call('release');
  },
};

/** `with lock:` — released on every path. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  await lock.acquire();
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

async function ${1:increment}(file: string): Promise<void> {
  // read-modify-write with a pause in the middle: without the lock, updates get lost
  const n = Number(readFileSync(file, 'utf8'));
  await sleep(2);
  writeFileSync(file, String(n + 1));$0
}

async function child(file: string): Promise<void> {
  process.on('message', (reply: { id: number; value?: unknown; error?: string }) => {
    calls.get(reply.id)?.(reply);
    calls.delete(reply.id);
  });
  try {
    for (let i = 0; i < 4; i++) await withLock(() => $1(file));
  } finally {
    process.disconnect();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-lock-'));
  const file = join(dir, 'counter');
  writeFileSync(file, '0');
  try {
    const shared = new Lock(`mp.Lock ${process.pid}#1`);
    const children = Array.from({ length: ${2:3} }, () => {
      const child = fork(__filename, ['child', file, shared.id]);
      serve(child, {
        acquire: (who, timeoutMs) => shared.acquire(who, timeoutMs as number | undefined),
        release: (who) => shared.release(who),
      });
      child.once('exit', () => shared.forget(child.pid ?? -1)); // a crashed holder does not deadlock the rest
      return child;
    });
    const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0] as number));
    console.log(`counter = ${readFileSync(file, 'utf8')} (${children.length} processes x 4 locked increments)`);
    console.log(`exit codes: ${codes.join(',')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

(process.argv[2] === 'child' ? child(process.argv[3] ?? '') : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
