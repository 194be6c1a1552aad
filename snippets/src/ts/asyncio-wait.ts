// asyncio.wait(tasks, timeout, return_when) → (done, pending) sets built on Promise.race.
import { setTimeout as sleep } from 'node:timers/promises';

type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';

/** asyncio.wait: resolves to { done, pending }; it never throws the tasks' errors. */
async function wait<T>(
  tasks: Array<Promise<T>>,
  { timeoutMs = Infinity, returnWhen = 'ALL_COMPLETED' as ReturnWhen } = {},
): Promise<{ done: Set<Promise<T>>; pending: Set<Promise<T>> }> {
  const done = new Set<Promise<T>>();
  let failed = false;
  let wake: () => void = () => {};
  for (const task of tasks) {
    task.then(
      () => {
        done.add(task);
        wake();
      },
      () => {
        failed = true;
        done.add(task);
        wake();
      },
    );
  }
  const finished = (): boolean =>
    done.size === tasks.length || (returnWhen === 'FIRST_COMPLETED' && done.size > 0) || (returnWhen === 'FIRST_EXCEPTION' && failed);
  const deadline = Date.now() + timeoutMs;
  while (!finished()) {
    const left = deadline - Date.now();
    if (left <= 0) break; // timeout: return what is done; the rest keeps running
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (left !== Infinity) timer = setTimeout(resolve, left);
    });
    clearTimeout(timer);
  }
  return { done: new Set(done), pending: new Set(tasks.filter((task) => !done.has(task))) };
}

async function ${1:job}(name: string, ms: number): Promise<string> {
  await sleep(ms);
  if (name === 'broken') throw new Error(name);
  return name;$0
}

async function main(): Promise<void> {
  const names = new Map<Promise<string>, string>();
  const start = (name: string, ms: number): Promise<string> => {
    const task = $1(name, ms);
    names.set(task, name);
    task.catch(() => {}); // asyncio.wait does not raise; avoid an unhandled rejection
    return task;
  };
  const show = (set: Set<Promise<string>>): string => [...set].map((task) => names.get(task)).join(',') || '-';

  const first = await wait([start('slow', 60), start('fast', 10), start('medium', 30)], { returnWhen: 'FIRST_COMPLETED' });
  console.log(`FIRST_COMPLETED -> done: ${show(first.done)}; pending: ${show(first.pending)}`);

  const failing = await wait([start('broken', 10), start('slow', 60)], { returnWhen: 'FIRST_EXCEPTION' });
  console.log(`FIRST_EXCEPTION -> done: ${show(failing.done)}; pending: ${show(failing.pending)}`);

  const timed = await wait([start('fast', 10), start('slow', 200)], { timeoutMs: ${2:50} });
  console.log(`timeout=0.05 -> done: ${show(timed.done)}; pending: ${show(timed.pending)}`);

  const all = await wait([start('fast', 10), start('medium', 30)]);
  console.log(`ALL_COMPLETED -> done: ${show(all.done)}; pending: ${show(all.pending)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
