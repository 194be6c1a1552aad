// threading.local → AsyncLocalStorage: a value per async flow (each request, task, callback
// chain sees its own), which is where Node code keeps what Python keeps per thread.
import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

const ${1:context} = new AsyncLocalStorage<{ user: string }>();

function whoAmI(): string {
  return $1.getStore()?.user ?? 'nobody'; // no argument passing: read from the current flow
}

async function handle(user: string, delayMs: number): Promise<string> {
  return $1.run({ user }, async () => {
    await sleep(delayMs); // the flows interleave here, each keeps its own store
    return `request ${user} -> handled for ${whoAmI()}`;$0
  });
}

// Module-level variables are already per thread: each worker has its own copy.
let counter = 0;

async function main(): Promise<void> {
  const results = await Promise.all([handle('alice', 30), handle('bob', 10), handle('carol', 20)]);
  for (const line of results) console.log(line);
  console.log(`outside any request: getStore() -> ${String($1.getStore())}`);
  const worker = new Worker(__filename);
  const [workerCount] = (await once(worker, 'message')) as [number];
  console.log(`module globals are per thread: the worker counted ${workerCount}, the main thread still ${counter}`);
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  for (let i = 0; i < 5; i++) counter += 1;
  parentPort?.postMessage(counter);
}
