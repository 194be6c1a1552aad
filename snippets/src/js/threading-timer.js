// threading.Timer → setTimeout on the event loop (no thread needed), with cancel() and join().
const { setTimeout: sleep } = require('node:timers/promises');

class Timer {
  #fn;
  #args;
  #timer;
  #finished;
  #finish = () => {};
  cancelled = false;

  constructor(intervalMs, fn, args = []) {
    this.intervalMs = intervalMs;
    this.#fn = fn;
    this.#args = args;
    this.#finished = new Promise((resolve) => (this.#finish = resolve));
  }

  start() {
    this.#timer = setTimeout(() => {
      try {
        this.#fn(...this.#args);
      } finally {
        this.#finish();
      }
    }, this.intervalMs);
  }

  /** cancel(): stops the timer if it has not fired yet. */
  cancel() {
    clearTimeout(this.#timer);
    this.cancelled = true;
    this.#finish();
  }

  /** A daemon timer: does not keep the process alive on its own. */
  unref() {
    this.#timer?.unref();
  }

  join() {
    return this.#finished;
  }
}

function ${1:greet}(name) {
  console.log(`timer fired: hello ${name}`);$0
}

async function main() {
  const t1 = new Timer(${2:50}, $1, ['world']); // Timer(0.05, greet, args=('world',))
  const t2 = new Timer(30, $1, ['never']);
  t1.start();
  t2.start();
  t2.cancel();
  await Promise.all([t1.join(), t2.join()]);
  console.log(`t2 cancelled before it fired: ${t2.cancelled}`);
  await sleep(40); // t2 would have fired by now: it does not
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
