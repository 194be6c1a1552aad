// threading.Thread → worker_threads.Worker running this same file (a real parallel thread: no GIL).
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

// Targets run in the worker and are found there by name: functions are not sent between threads.
const targets = {
  ${1:work}(n) {
    let total = 0;
    for (let i = 1; i <= n; i++) total += i;
    return total;$0
  },
  spin() {
    setInterval(() => {}, 1000); // never ends on its own
  },
};

class Thread {
  result; // what the target returned (sent back: threads share no JS objects)
  #worker;
  #exited;
  #alive = false;

  constructor(target, args = [], options = {}) {
    this.target = target;
    this.args = args;
    this.name = options.name ?? `Thread-${target}`;
    this.daemon = options.daemon ?? false;
  }

  start() {
    // `name` labels the thread in debuggers; resourceLimits would cap its heap.
    const worker = new Worker(__filename, { name: this.name, workerData: { target: this.target, args: this.args } });
    worker.on('message', (value) => (this.result = value));
    worker.on('error', (error) => console.error(`Exception in thread ${this.name}:`, error)); // see py-threading-excepthook
    this.#alive = true;
    this.#exited = new Promise((resolve) => worker.once('exit', (code) => {
      this.#alive = false;
      resolve(code);
    }));
    if (this.daemon) worker.unref(); // daemon=True: does not keep the process alive
    this.#worker = worker;
  }

  get ident() {
    return this.#worker?.threadId;
  }

  isAlive() {
    return this.#alive;
  }

  /** join(timeout): resolves when the thread ends, or after timeoutMs (then check isAlive()). */
  async join(timeoutMs) {
    if (!this.#exited) throw new Error('cannot join thread before it is started');
    let timer;
    const timedOut = new Promise((resolve) => {
      if (timeoutMs !== undefined) timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([this.#exited, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function main() {
  const t = new Thread('$1', [${2:10}], { name: 'worker-1' });
  t.start();
  await t.join();
  console.log(`${t.name} returned ${String(t.result)}, is_alive after join: ${t.isAlive()}`);

  const spinner = new Thread('spin', [], { name: 'spinner', daemon: true });
  spinner.start();
  await spinner.join(100); // join(timeout=0.1)
  console.log(`spinner after join(0.1): is_alive=${spinner.isAlive()}, ident is a number: ${typeof spinner.ident === 'number'}`);
  console.log('main thread ends; the daemon thread does not keep the process alive');
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  const { target, args } = workerData;
  const result = targets[target](...args);
  if (result !== undefined) parentPort?.postMessage(result);
}
