// threading.enumerate / current_thread / active_count → threadId, isMainThread, and a registry
// of the workers this thread started (Node keeps none for you).
import { Worker, isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { once } from 'node:events';

const threads = new Map<Worker, string>();

function startThread(name: string): Worker {
  const worker = new Worker(__filename, { name, workerData: { name } });
  threads.set(worker, name);
  worker.once('exit', () => threads.delete(worker));
  return worker;
}

/** current_thread(): name and ident (threadId: 0 for the main thread). */
function currentThread(): { name: string; ident: number } {
  return { name: isMainThread ? 'MainThread' : (workerData as { name: string }).name, ident: threadId };
}

/** enumerate(): this thread and the live workers it started (a worker's own workers are its business). */
function enumerate(): string[] {
  return [currentThread().name, ...threads.values()];
}

function activeCount(): number {
  return enumerate().length;
}

async function main(): Promise<void> {
  const me = currentThread();
  console.log(`current_thread().name -> ${me.name}, ident -> ${me.ident}`);
  const workers = [startThread('${1:worker}-1'), startThread('$1-2')];
  console.log(`enumerate() -> ${enumerate().join(',')}`);
  console.log(`active_count() -> ${activeCount()}`);
  for (const worker of workers) {
    worker.postMessage('whoami');
    const [reply] = (await once(worker, 'message')) as [{ name: string; ident: number; main: boolean }];
    console.log(`${reply.name} says: ident > 0: ${reply.ident > 0}, is the main thread: ${reply.main}`);
  }
  for (const worker of workers) worker.postMessage('exit');
  await Promise.all(workers.map((worker) => once(worker, 'exit')));
  console.log(`after join: active_count() -> ${activeCount()}`);$0
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  parentPort?.on('message', (message: string) => {
    if (message === 'whoami') parentPort?.postMessage({ ...currentThread(), main: isMainThread });
    else parentPort?.close(); // 'exit': nothing keeps this thread alive any more
  });
}
