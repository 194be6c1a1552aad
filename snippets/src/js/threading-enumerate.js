// threading.enumerate / current_thread / active_count → threadId, isMainThread, and a registry
// of the workers this thread started (Node keeps none for you).
const { Worker, isMainThread, parentPort, threadId, workerData } = require('node:worker_threads');
const { once } = require('node:events');

const threads = new Map();

function startThread(name) {
  const worker = new Worker(__filename, { name, workerData: { name } });
  threads.set(worker, name);
  worker.once('exit', () => threads.delete(worker));
  return worker;
}

/** current_thread(): name and ident (threadId: 0 for the main thread). */
function currentThread() {
  return { name: isMainThread ? 'MainThread' : workerData.name, ident: threadId };
}

/** enumerate(): this thread and the live workers it started (a worker's own workers are its business). */
function enumerate() {
  return [currentThread().name, ...threads.values()];
}

function activeCount() {
  return enumerate().length;
}

async function main() {
  const me = currentThread();
  console.log(`current_thread().name -> ${me.name}, ident -> ${me.ident}`);
  const workers = [startThread('${1:worker}-1'), startThread('$1-2')];
  console.log(`enumerate() -> ${enumerate().join(',')}`);
  console.log(`active_count() -> ${activeCount()}`);
  for (const worker of workers) {
    worker.postMessage('whoami');
    const [reply] = (await once(worker, 'message'));
    console.log(`${reply.name} says: ident > 0: ${reply.ident > 0}, is the main thread: ${reply.main}`);
  }
  for (const worker of workers) worker.postMessage('exit');
  await Promise.all(workers.map((worker) => once(worker, 'exit')));
  console.log(`after join: active_count() -> ${activeCount()}`);$0
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  parentPort?.on('message', (message) => {
    if (message === 'whoami') parentPort?.postMessage({ ...currentThread(), main: isMainThread });
    else
      parentPort?.close(); // 'exit': nothing keeps this thread alive any more
  });
}
