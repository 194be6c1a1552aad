// asyncio.wait_for / asyncio.timeout → an AbortSignal with a deadline, passed to everything the
// task awaits: on timeout the work is really cancelled, and TimeoutError is raised.
import { setTimeout as sleep } from 'node:timers/promises';

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** wait_for(fn, timeout): runs fn with a signal that aborts after timeoutMs. */
async function waitFor<T>(fn: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    return await fn(controller.signal);
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer); // a forgotten timer keeps the process alive
  }
}

let finishedSlowly = false;

async function ${1:fetchData}(ms: number, signal: AbortSignal): Promise<string> {
  await sleep(ms, undefined, { signal }); // cancellable: rejects as soon as the signal aborts
  finishedSlowly = ms > 100;
  return `data after ${ms} ms`;$0
}

async function main(): Promise<void> {
  console.log(`wait_for(fetch 10 ms, timeout=0.1) -> ${await waitFor((signal) => $1(10, signal), 100)}`);
  try {
    await waitFor((signal) => $1(1000, signal), ${2:50});
  } catch (error) {
    console.log(`wait_for(fetch 1 s, timeout=0.05) -> ${(error as Error).name}: ${(error as Error).message}`);
  }
  // AbortSignal.timeout(ms) is the one-liner when no cleanup is needed:
  try {
    await sleep(1000, undefined, { signal: AbortSignal.timeout(20) });
  } catch (error) {
    console.log(`sleep with AbortSignal.timeout(20) -> ${(error as Error).name}`);
  }
  await sleep(20);
  console.log(`the timed-out fetch was cancelled, not left running: ${!finishedSlowly}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
