// asyncio.sleep → setTimeout from node:timers/promises; asyncio.sleep(0) → setImmediate (yield
// to other tasks); a sleep can be cut short with an AbortSignal.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';

async function ${1:ticker}(name: string, log: string[]): Promise<void> {
  for (let i = 1; i <= 3; i++) {
    log.push(`${name}${i}`);
    await yieldToLoop(); // asyncio.sleep(0): let the other task run$0
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const value = await sleep(${2:50}, 'done'); // asyncio.sleep(0.05, result='done')
  console.log(`sleep(0.05) -> ${value}, took at least 50 ms: ${performance.now() - started >= 49}`);

  const log: string[] = [];
  await Promise.all([$1('a', log), $1('b', log)]);
  console.log(`two tasks yielding with sleep(0) interleave: ${log.join(' ')}`);

  const controller = new AbortController();
  setTimeout(() => controller.abort(), 10);
  try {
    await sleep(10_000, undefined, { signal: controller.signal });
  } catch (error) {
    console.log(`a 10 s sleep cancelled after 10 ms -> ${(error as Error).name}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
