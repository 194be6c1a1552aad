// asyncio.gather → Promise.all (results in argument order); return_exceptions=True → Promise.allSettled.
import { setTimeout as sleep } from 'node:timers/promises';

async function ${1:fetch}(n: number, ms: number): Promise<number> {
  await sleep(ms);
  if (n < 0) throw new Error(`bad item ${n}`);
  return n * 10;$0
}

async function main(): Promise<void> {
  // Calling an async function starts it (like create_task); gather only waits for them all.
  const results = await Promise.all([$1(1, 30), $1(2, 10), $1(3, 20)]);
  console.log(`gather -> ${JSON.stringify(results)}`);

  const settled = await Promise.allSettled([$1(1, 10), $1(-1, 5)]);
  const shown = settled.map((r) => (r.status === 'fulfilled' ? String(r.value) : `${(r.reason as Error).name}: ${(r.reason as Error).message}`));
  console.log(`gather(return_exceptions=True) -> ${shown.join(', ')}`);

  try {
    await Promise.all([$1(1, 10), $1(-2, 5)]);
  } catch (error) {
    // The first error rejects at once; the others keep running (nothing is cancelled, as in gather).
    console.log(`gather with a failing task raises -> ${(error as Error).message}`);
  }
}

// asyncio.run(main()): there is no loop to start; just call it and handle a failure.
main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
