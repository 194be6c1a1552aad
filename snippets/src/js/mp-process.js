// multiprocessing.Process → child_process.fork(): a new Node process running this same file.
const { fork } = require('node:child_process');
const { once } = require('node:events');
const { constants } = require('node:os');

// Targets run in the child and are found there by name: a function cannot cross a process
// boundary (there is no pickle); arguments travel as JSON here, or structured clones over IPC.
let currentProcessName = 'MainProcess'; // current_process().name
const targets = {
  ${1:work}(a, b) {
    console.log(`${currentProcessName}: ${a} + ${b} = ${a + b}`);$0
  },
  sleep() {
    setInterval(() => {}, 1000); // runs until terminated
  },
};

class Process {
  #child;

  constructor(target, args = [], options = {}) {
    this.target = target;
    this.args = args;
    this.name = options.name ?? `Process-${target}`;
    this.daemon = options.daemon ?? false;
  }

  start() {
    this.#child = fork(__filename, ['child', this.name, this.target, JSON.stringify(this.args)]);
    if (this.daemon) {
      // daemon=True: the parent neither waits for it nor leaves it behind.
      this.#child.unref();
      this.#child.channel?.unref();
      process.once('exit', () => this.terminate());
    }
  }

  get pid() {
    return this.#child?.pid;
  }

  isAlive() {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Python's exitcode: the exit status, or -N when killed by signal N, or null while running. */
  get exitcode() {
    const child = this.#child;
    if (!child) return null;
    if (child.signalCode) return -constants.signals[child.signalCode];
    return child.exitCode;
  }

  terminate() {
    if (this.isAlive()) this.#child?.kill('SIGTERM');
  }

  /** join(timeout): resolves when the process exits, or after timeoutMs (check isAlive()). */
  async join(timeoutMs) {
    const child = this.#child;
    if (!child || !this.isAlive()) return;
    const exited = once(child, 'exit');
    if (timeoutMs === undefined) {
      await exited;
      return;
    }
    let timer;
    try {
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function main() {
  const p = new Process('${1:work}', [${2:2, 3}], { name: 'worker-1' });
  p.start(); // unlike Python, a child also starts when the parent is busy: it is a separate process
  await p.join();
  console.log(`${p.name}: exitcode=${p.exitcode} is_alive=${p.isAlive()} pid is a number: ${typeof p.pid === 'number'}`);

  const sleeper = new Process('sleep', [], { name: 'sleeper' });
  sleeper.start();
  await sleeper.join(200); // join(timeout=0.2)
  console.log(`sleeper after join(200 ms): is_alive=${sleeper.isAlive()}`);
  sleeper.terminate(); // SIGTERM, like Process.terminate()
  await sleeper.join();
  console.log(`sleeper after terminate(): exitcode=${sleeper.exitcode}`);

  const daemon = new Process('sleep', [], { name: 'daemon', daemon: true });
  daemon.start();
  console.log('daemon started: the parent exits without joining it, and kills it on the way out');
}

if (process.argv[2] === 'child') {
  // In the child: run(), i.e. the target with its arguments.
  currentProcessName = process.argv[3] ?? '';
  const [target, args] = [process.argv[4], JSON.parse(process.argv[5] ?? '[]')];
  targets[target](...args);
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
