// The model's cost per lock-wait event at scale: 10,000 mutexes each held by its own task, every
// task but the last waiting for a random later mutex (a waits-for DAG, so no finding). Returns the
// median ms per `wait` event, as the engine sees it (no agent, no transport).
import { performance } from 'node:perf_hooks';
import { Sim, at, prng } from '../test/unit/resourceGraphSim';
import { median } from './measure';

export function lockWaitMsAmong(n: number): number {
  const sim = new Sim();
  const rand = prng(42);
  for (let i = 0; i < n; i++) {
    sim.create(`1:0:r${i}`, 'mutex', `m${i}`, { site: at(i) });
    sim.take(`1:${i % 8}:t${i}`, `1:0:r${i}`, { site: at(i) });
  }
  const times: number[] = [];
  for (let i = 0; i < n - 1; i++) {
    const j = i + 1 + Math.floor(rand() * (n - 1 - i));
    const start = performance.now();
    sim.wait(`1:${i % 8}:t${i}`, `1:0:r${j}`, { site: at(i + n) });
    times.push(performance.now() - start);
  }
  if (sim.findings.length) throw new Error('a waits-for DAG gave a finding');
  return median(times);
}
