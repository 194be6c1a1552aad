// asyncio.wait(tasks, timeout, return_when) → (done, pending) sets built on Promise.race.
const { setTimeout: sleep } = require('node:timers/promises');

/** asyncio.wait: resolves to { done, pending }; it never throws the tasks' errors. */
async function wait(tasks, { timeoutMs = Infinity, returnWhen = 'ALL_COMPLETED' } = {}) {
  const done = new Set();
  let failed = false;
  let wake = () => {};
  for (const task of tasks) {
    task.then(() => {
      done.add(task);
      wake();
    }, () => {
      failed = true;
      done.add(task);
      wake();
    });
  }
  const finished = () => done.size === tasks.length || (returnWhen === 'FIRST_COMPLETED' && done.size > 0) || (returnWhen === 'FIRST_EXCEPTION' && failed);
  const deadline = Date.now() + timeoutMs;
  while (!finished()) {
    const left = deadline - Date.now();
    if (left <= 0) break; // timeout: return what is done; the rest keeps running
    let timer;
    await new Promise((resolve) => {
      wake = resolve;
      if (left !== Infinity) timer = setTimeout(resolve, left);
    });
    clearTimeout(timer);
  }
  return { done: new Set(done), pending: new Set(tasks.filter((task) => !done.has(task))) };
}

async function ${1:job}(name, ms) {
  await sleep(ms);
  if (name === 'broken') throw new Error(name);
  return name;$0
}

async function main() {
  const names = new Map();
  const start = (name, ms) => {
    const task = $1(name, ms);
    names.set(task, name);
    task.catch(() => {}); // asyncio.wait does not raise; avoid an unhandled rejection
    return task;
  };
  const show = (set) => [...set].map((task) => names.get(task)).join(',') || '-';

  const first = await wait([start('slow', 60), start('fast', 10), start('medium', 30)], { returnWhen: 'FIRST_COMPLETED' });
  console.log(`FIRST_COMPLETED -> done: ${show(first.done)}; pending: ${show(first.pending)}`);

  const failing = await wait([start('broken', 10), start('slow', 60)], { returnWhen: 'FIRST_EXCEPTION' });
  console.log(`FIRST_EXCEPTION -> done: ${show(failing.done)}; pending: ${show(failing.pending)}`);

  const timed = await wait([start('fast', 10), start('slow', 200)], { timeoutMs: ${2:50} });
  console.log(`timeout=0.05 -> done: ${show(timed.done)}; pending: ${show(timed.pending)}`);

  const all = await wait([start('fast', 10), start('medium', 30)]);
  console.log(`ALL_COMPLETED -> done: ${show(all.done)}; pending: ${show(all.pending)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
