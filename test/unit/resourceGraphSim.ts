// Helpers for the resource graph tests: terse synthetic events with a ticking host clock.
import type { SourceSite, StackFrames } from '../../src/protocol/agentEvents';
import type { LockMode, ResourceCreatedEvent, ResourceEvent, ResourceKind } from '../../src/protocol/resourceEvents';
import type { Finding } from '../../src/protocol/report';
import type { ResourceGraphOptions } from '../../src/model/resourceGraph';
import { ResourceGraph } from '../../src/model/resourceGraph';

/** A site in /app/<file>. */
export function at(line: number, functionName?: string, file = 'bank.js'): SourceSite {
  const site: SourceSite = { file: `/app/${file}`, line, column: 5 };
  if (functionName) site.functionName = functionName;
  return site;
}

/** A one-frame stack at a site. */
export function stackAt(site: SourceSite): StackFrames {
  return [site, { file: '/app/main.js', line: 1, column: 1 }];
}

/** The pid and thread of a task id (`<pid>:<threadId>:t<n>` or `thread:<pid>:<threadId>`). */
export function threadOf(taskId: string): [number, number] {
  const parts = taskId.split(':');
  return parts[0] === 'thread' ? [Number(parts[1]), Number(parts[2])] : [Number(parts[0]), Number(parts[1])];
}

export interface LockOptions {
  mode?: LockMode;
  permits?: number;
  key?: string;
  timeoutMs?: number | null;
  site?: SourceSite;
}

/** Drives a graph with terse calls; collects every finding. */
export class Sim {
  readonly graph: ResourceGraph;
  readonly findings: Finding[] = [];
  now = 1_000;

  constructor(options: ResourceGraphOptions = {}) {
    this.graph = new ResourceGraph({ cwd: '/app', poolStarvationMs: 0, ...options });
  }

  /** Applies an event from a thread; returns the findings it produced. */
  event(pid: number, threadId: number, e: ResourceEvent): Finding[] {
    const found = this.graph.apply(pid, threadId, e, this.now++);
    this.findings.push(...found);
    return found;
  }

  create(id: string, kind: ResourceKind, name: string, extra: Partial<ResourceCreatedEvent> = {}, pid = 1, threadId = 0): void {
    this.event(pid, threadId, { type: 'resource-created', ts: 0, resourceId: id, kind, library: kind === 'web-lock' ? 'web-locks' : `lib-${kind}@1.0.0`, name, ...extra });
  }

  wait(task: string, resourceId: string, o: LockOptions = {}): Finding[] {
    const [pid, threadId] = threadOf(task);
    const site = o.site;
    return this.event(pid, threadId, { type: 'lock-wait', ts: 0, resourceId, taskId: task, mode: o.mode, permits: o.permits, key: o.key, timeoutMs: o.timeoutMs, site, stack: site ? stackAt(site) : undefined });
  }

  acquire(task: string, resourceId: string, o: LockOptions = {}): Finding[] {
    const [pid, threadId] = threadOf(task);
    const site = o.site;
    return this.event(pid, threadId, { type: 'lock-acquired', ts: 0, resourceId, taskId: task, mode: o.mode, permits: o.permits, key: o.key, site, stack: site ? stackAt(site) : undefined });
  }

  /** A wait that is granted at once (`lock-wait` then `lock-acquired`). */
  take(task: string, resourceId: string, o: LockOptions = {}): Finding[] {
    return [...this.wait(task, resourceId, o), ...this.acquire(task, resourceId, o)];
  }

  release(task: string, resourceId: string, o: { permits?: number; key?: string; holderTaskId?: string; site?: SourceSite } = {}): Finding[] {
    const [pid, threadId] = threadOf(task);
    return this.event(pid, threadId, { type: 'lock-released', ts: 0, resourceId, taskId: task, ...o });
  }

  waitEnded(task: string, resourceId: string, reason: 'timeout' | 'cancelled' = 'timeout'): Finding[] {
    const [pid, threadId] = threadOf(task);
    return this.event(pid, threadId, { type: 'lock-wait-ended', ts: 0, resourceId, taskId: task, reason });
  }

  kinds(): string[] {
    return this.findings.map((f) => f.kind);
  }
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` mutexes each held by its own task; then every task but the last waits for a random later
 * mutex (a waits-for DAG: no finding). `runWait` runs each of those waits (to time it).
 */
export function busyGraph(n: number, runWait: (wait: () => void) => void = (wait) => wait()): Sim {
  const sim = new Sim();
  const rand = prng(42);
  for (let i = 0; i < n; i++) {
    sim.create(`1:0:r${i}`, 'mutex', `m${i}`, { site: at(i) });
    sim.take(`1:${i % 8}:t${i}`, `1:0:r${i}`, { site: at(i) });
  }
  for (let i = 0; i < n - 1; i++) {
    const j = i + 1 + Math.floor(rand() * (n - 1 - i));
    runWait(() => void sim.wait(`1:${i % 8}:t${i}`, `1:0:r${j}`, { site: at(i + n) }));
  }
  return sim;
}
