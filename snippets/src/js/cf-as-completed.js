// concurrent.futures.as_completed / add_done_callback → plain promises: take outcomes in the order
// they finish, with an overall timeout.
const { setTimeout: sleep } = require('node:timers/promises');

class TimeoutError extends Error {
  name = 'TimeoutError';
}

/**
* as_completed(fs, timeout): yields each promise's outcome as it settles, like Promise.allSettled
* but in completion order. (An async generator awaits whatever it yields, so it cannot hand out
* the promises themselves the way Python hands out futures.)
*/
async function* asCompleted(promises, timeoutMs = Infinity) {
  const settled = [];
  let wake = () => {};
  promises.forEach((promise, index) => {
    // add_done_callback: one callback for success, one for failure
    promise.then((value) => {
      settled.push({ status: 'fulfilled', value, index });
      wake();
    }, (reason) => {
      settled.push({ status: 'rejected', reason, index });
      wake();
    });
  });
  const deadline = Date.now() + timeoutMs;
  for (let yielded = 0; yielded < promises.length; yielded++) {
    if (settled.length === 0) {
      let timer;
      try {
        await new Promise((resolve, reject) => {
          wake = resolve;
          const left = deadline - Date.now();
          if (left !== Infinity) timer = setTimeout(() => reject(new TimeoutError(`${promises.length - yielded} (of ${promises.length}) futures unfinished`)), left);
        });
      } finally {
        clearTimeout(timer);
      }
    }
    yield settled.shift();
  }
}

async function ${1:fetchItem}(name, ms) {
  await sleep(ms);
  if (name === 'broken') throw new Error('no such item');
  return name;$0
}

async function main() {
  const order = [];
  for await (const done of asCompleted([$1('slow', 60), $1('fast', 10), $1('broken', 20), $1('medium', 30)])) {
    order.push(done.status === 'fulfilled' ? done.value : `#${done.index} failed: ${done.reason.message}`);
  }
  console.log(`as_completed -> ${order.join(', ')}`);

  const partial = [];
  try {
    for await (const done of asCompleted([$1('slow', 200), $1('fast', 10)], ${2:50})) {
      if (done.status === 'fulfilled') partial.push(done.value);
    }
  } catch (error) {
    console.log(`as_completed(timeout=0.05) -> ${partial.join(', ')}, then ${error.name}: ${error.message}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
