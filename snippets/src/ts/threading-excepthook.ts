// Catching a thread's exception in the caller → the Worker's 'error' event: the error arrives
// as a structured clone and the worker exits with code 1.
import { Worker, isMainThread, workerData } from 'node:worker_threads';

/** join() that re-raises the thread's exception in the caller (like future.result()). */
function join(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject); // without an 'error' listener, the whole process would crash
    worker.once('exit', resolve);
  });
}

/** threading.excepthook: called for an exception nobody joins. */
function excepthook(name: string, error: Error): void {
  console.log(`Exception in thread ${name}: ${error.name}: ${error.message}`);
}

function ${1:parse}(n: number): number {
  if (n < 0) throw new RangeError(`negative input: ${n}`);
  return Math.sqrt(n);$0
}

async function main(): Promise<void> {
  const worker = new Worker(__filename, { workerData: { n: -1 } });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  try {
    await join(worker);
  } catch (error) {
    const e = error as Error;
    console.log(`caught in the caller: ${e.name}: ${e.message}`); // RangeError survives; custom classes arrive as Error
  }
  console.log(`worker exit code: ${await exited}`);

  const unjoined = new Worker(__filename, { workerData: { n: -2 } });
  unjoined.on('error', (error) => excepthook('unjoined', error));
  await new Promise((resolve) => unjoined.once('exit', resolve));
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  $1((workerData as { n: number }).n);
}
