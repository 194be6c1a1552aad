// The model's cost per lock-wait event at scale: 10,000 mutexes each held by its own task, every
// task but the last waiting for a random later mutex (a waits-for DAG, so no finding). Returns the
// median ms per `wait` event, as the engine sees it (no agent, no transport).
import { performance } from 'node:perf_hooks';
import { busyGraph } from '../test/unit/resourceGraphSim';
import { median } from './measure';

export function lockWaitMsAmong(n: number): number {
  const times: number[] = [];
  const sim = busyGraph(n, (wait) => {
    const start = performance.now();
    wait();
    times.push(performance.now() - start);
  });
  if (sim.findings.length) throw new Error('a waits-for DAG gave a finding');
  return median(times);
}
