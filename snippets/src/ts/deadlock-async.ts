// THE CLASSIC DEADLOCK IN ASYNC CODE — two tasks take two async locks in opposite order. Unlike
// threads, nothing hangs: once both tasks wait, nothing is left to run, the event loop drains and
// Node exits quietly with code 0 — 'done' never prints and the finally blocks never run. (In a
// server, the listening socket keeps the loop alive and the requests hang instead.) The locks
// publish what they do on diagnostics_channel, so Gridlock names the deadlock as the cycle closes.
import { channel } from 'node:diagnostics_channel';
import { EventEmitter, once } from 'node:events';

// Publishing on diagnostics_channel makes a home-made lock visible to tools such as Gridlock
// (`gridlock run -- node app.js`): it costs nothing when nobody listens.
const lockChannel = channel('gridlock:lock');

class Lock extends EventEmitter {
  readonly name: string;
  #locked = false;

  constructor(name: string) {
    super();
    this.name = name;
    lockChannel.publish({ op: 'create', lock: this, name: `lock ${name}` });
  }

  async acquire(): Promise<void> {
    if (this.#locked) lockChannel.publish({ op: 'wait', lock: this });
    while (this.#locked) await once(this, 'release');
    this.#locked = true;
    lockChannel.publish({ op: 'acquired', lock: this });
  }

  release(): void {
    lockChannel.publish({ op: 'release', lock: this });
    this.#locked = false;
    this.emit('release');
  }
}

let holding = 0;
let bothHold: () => void = () => {};
const handshake = new Promise<void>((resolve) => (bothHold = resolve));

async function transfer(name: string, first: Lock, second: Lock): Promise<void> {
  await first.acquire();
  try {
    console.log(`${name} holds lock ${first.name}, wants lock ${second.name}`);
    if (++holding === 2) bothHold();
    await handshake; // both tasks hold their first lock
    await second.acquire(); // the other task holds it and waits for ours
    try {
      $0// move the money
    } finally {
      second.release();
    }
  } finally {
    first.release();
  }
}

let finished = false;
process.on('exit', (code) => {
  if (!finished) console.log(`exit code ${code}, no 'done': both tasks still wait, but nothing is left to run`);
});

async function main(): Promise<void> {
  const ${1:a} = new Lock('A');
  const ${2:b} = new Lock('B');
  await Promise.all([transfer('task-1', $1, $2), transfer('task-2', $2, $1)]);
  finished = true;
  console.log('done'); // never printed
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
