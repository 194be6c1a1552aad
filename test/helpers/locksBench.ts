// Measures the agent's cost on the lock benchmarks: node --import tsx test/helpers/locksBench.ts
// (GRIDLOCK_TEST_NODE selects the Node that runs them). Prints the median of 7 alternating runs.
import * as path from 'node:path';
import { repoRoot, run } from './agentHarness';

const RUNS = 7;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

void (async () => {
  for (const name of ['bench-mutex.js', 'bench-promises.js', 'bench-atomics.js']) {
    const file = path.join(repoRoot, 'test', 'fixtures', 'locks', name);
    const withAgent: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      without.push(Number((await run([file], { agent: false, timeoutMs: 120_000 })).stdout));
      withAgent.push(Number((await run([file], { timeoutMs: 120_000 })).stdout));
    }
    const a = median(withAgent);
    const b = median(without);
    console.log(`${name}: without ${b.toFixed(0)} ms, with ${a.toFixed(0)} ms, ratio ${(a / b).toFixed(3)}`);
  }
})();
