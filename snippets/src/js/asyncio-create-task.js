// asyncio.create_task → calling an async function (it starts at once and returns a promise);
// task.cancel() → an AbortController whose signal the task passes to what it awaits.
const { setTimeout: sleep } = require('node:timers/promises');

class CancelledError extends Error {
  name = 'CancelledError';
}

/** A task: the running promise plus cancel(), cancelled() and done(). */
class Task {
  #controller = new AbortController();
  #done = false;

  constructor(coro) {
    this.promise = coro(this.#controller.signal)
      .catch((error) => {
      throw this.#controller.signal.aborted ? new CancelledError() : error;
    })
      .finally(() => (this.#done = true));
    this.promise.catch(() => {}); // a failed task nobody awaits must not crash the process
  }

  /** cancel(): asks the task to stop; it ends with CancelledError at its next await of the signal. */
  cancel() {
    if (this.#done) return false;
    this.#controller.abort();
    return true;
  }

  cancelled() {
    return this.#controller.signal.aborted;
  }

  done() {
    return this.#done;
  }
}

function createTask(coro) {
  return new Task(coro);
}

async function ${1:compute}(signal, ms) {
  await sleep(ms, undefined, { signal }); // every await that can take long gets the signal
  return 42;$0
}

async function main() {
  const task = createTask((signal) => $1(signal, 20));
  console.log(`done() right after create_task -> ${task.done()}`);
  console.log(`await task -> ${await task.promise}, done() -> ${task.done()}`);

  const slow = createTask((signal) => $1(signal, 10_000));
  await sleep(10); // let it start
  console.log(`cancel() -> ${slow.cancel()}`);
  try {
    await slow.promise;
  } catch (error) {
    console.log(`await cancelled task -> ${error.name}, cancelled() -> ${slow.cancelled()}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
