// Randomised runs of a small lock scheduler (seeded), fed to the graph the way the host receives
// events: per-thread order kept, threads flushed in random batches. With a global lock order no run
// may produce a finding; with random orders, every reported deadlock must be real (its tasks stay
// blocked to the end) and every run that ends stuck must have been reported.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { LockMode, ResourceEvent, ResourceKind } from '../../src/protocol/resourceEvents';
import type { Finding } from '../../src/protocol/report';
import { ResourceGraph } from '../../src/model/resourceGraph';
import { at, prng } from './resourceGraphSim';

interface SimLock {
  id: string;
  kind: ResourceKind;
  capacity: number;
  holders: Map<string, { mode: LockMode; permits: number }>;
  queue: Array<{ task: SimTask; mode: LockMode; permits: number }>;
}

interface Step {
  lock: SimLock;
  mode: LockMode;
  permits: number;
  timeoutMs?: number;
  key?: string;
}

interface SimTask {
  id: string;
  threadId: number;
  steps: Step[];
  next: number;
  held: Step[];
  state: 'queued' | 'ready' | 'blocked' | 'done';
  waiting?: { step: Step; expiresAt?: number };
}

const PID = 1;
const THREADS = 4;

class Scheduler {
  readonly graph = new ResourceGraph({ poolStarvationMs: 1_000 });
  readonly findings: Finding[] = [];
  readonly outbox: ResourceEvent[][] = Array.from({ length: THREADS }, () => []);
  readonly threadOfEvent: number[] = [];
  tick = 0;
  running = 0;
  private readonly queue: SimTask[] = [];

  constructor(
    readonly rand: () => number,
    readonly locks: SimLock[],
    readonly concurrency: number,
  ) {
    for (const l of locks) this.emit(0, { type: 'resource-created', ts: 0, resourceId: l.id, kind: l.kind, library: 'sim@1', name: l.id, capacity: l.capacity });
    this.emit(0, { type: 'resource-created', ts: 0, resourceId: `${PID}:0:queue`, kind: 'queue', library: 'p-queue@8', name: 'queue', capacity: concurrency });
  }

  emit(threadId: number, e: ResourceEvent): void {
    this.outbox[threadId].push({ ...e, ts: this.tick });
  }

  /** Delivers a random prefix of a random thread's outbox (or everything). */
  deliver(all = false): void {
    for (let t = 0; t < THREADS; t++) {
      if (!all && this.rand() < 0.7) continue;
      const box = this.outbox[t];
      const n = all ? box.length : Math.floor(this.rand() * (box.length + 1));
      for (const e of box.splice(0, n)) this.findings.push(...this.graph.apply(PID, t, e, this.tick));
    }
  }

  submit(task: SimTask): void {
    this.queue.push(task);
    this.emit(0, { type: 'pool-task', ts: 0, resourceId: `${PID}:0:queue`, taskId: task.id, state: 'queued', site: at(1) });
    this.startQueued();
  }

  private startQueued(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const task = this.queue.shift() as SimTask;
      task.state = 'ready';
      this.running++;
      this.emit(0, { type: 'pool-task', ts: 0, resourceId: `${PID}:0:queue`, taskId: task.id, state: 'running', workerThreadId: task.threadId });
    }
  }

  /** Runs one step of a random ready task; returns false when nothing can run. */
  step(): boolean {
    this.tick++;
    this.expireTimeouts();
    const ready: SimTask[] = [];
    for (const t of this.all) if (t.state === 'ready') ready.push(t);
    if (ready.length === 0) return this.all.some((t) => t.state === 'blocked' && t.waiting?.expiresAt !== undefined);
    const task = ready[Math.floor(this.rand() * ready.length)];
    if (task.next < task.steps.length) this.acquire(task, task.steps[task.next++]);
    else if (task.held.length > 0) this.release(task, task.held.pop() as Step);
    else {
      task.state = 'done';
      this.running--;
      this.emit(0, { type: 'pool-task', ts: 0, resourceId: `${PID}:0:queue`, taskId: task.id, state: 'done' });
      this.startQueued();
    }
    return true;
  }

  all: SimTask[] = [];

  private acquire(task: SimTask, step: Step): void {
    const { lock } = step;
    const base = { ts: 0, resourceId: lock.id, taskId: task.id, mode: step.mode, permits: step.permits, key: step.key };
    const site = at(100 + this.locks.indexOf(lock));
    const grantable = this.grantable(lock, step.mode, step.permits, 0) && (lock.kind === 'semaphore' || lock.queue.length === 0);
    if (grantable) {
      if (this.rand() < 0.5) this.emit(task.threadId, { ...base, type: 'lock-wait', timeoutMs: step.timeoutMs, site });
      this.grant(task, step);
      return;
    }
    this.emit(task.threadId, { ...base, type: 'lock-wait', timeoutMs: step.timeoutMs, site });
    if (step.timeoutMs === 0) {
      this.emit(task.threadId, { type: 'lock-wait-ended', ts: 0, resourceId: lock.id, taskId: task.id, reason: 'unavailable' });
      return;
    }
    lock.queue.push({ task, mode: step.mode, permits: step.permits });
    task.state = 'blocked';
    task.waiting = { step, expiresAt: step.timeoutMs === undefined ? undefined : this.tick + step.timeoutMs };
  }

  private grant(task: SimTask, step: Step): void {
    step.lock.holders.set(task.id, { mode: step.mode, permits: step.permits });
    task.held.push(step);
    task.state = 'ready';
    task.waiting = undefined;
    this.emit(task.threadId, { type: 'lock-acquired', ts: 0, resourceId: step.lock.id, taskId: task.id, mode: step.mode, permits: step.permits, key: step.key, site: at(100 + this.locks.indexOf(step.lock)) });
  }

  private release(task: SimTask, step: Step): void {
    step.lock.holders.delete(task.id);
    this.emit(task.threadId, { type: 'lock-released', ts: 0, resourceId: step.lock.id, taskId: task.id, permits: step.permits, key: step.key });
    this.dispatch(step.lock);
  }

  private grantable(lock: SimLock, mode: LockMode, permits: number, _index: number): boolean {
    if (lock.kind === 'semaphore' || lock.kind === 'mutex') {
      let used = 0;
      for (const h of lock.holders.values()) used += h.permits;
      return lock.capacity - used >= permits;
    }
    for (const h of lock.holders.values()) if (h.mode === 'exclusive' || mode === 'exclusive') return false;
    return true;
  }

  /** Mode locks grant strictly in order (Web Locks); counting locks grant any waiter that fits. */
  private dispatch(lock: SimLock): void {
    for (let i = 0; i < lock.queue.length; ) {
      const w = lock.queue[i];
      if (this.grantable(lock, w.mode, w.permits, i)) {
        lock.queue.splice(i, 1);
        this.grant(w.task, w.task.waiting?.step as Step);
        continue;
      }
      if (lock.kind !== 'semaphore' && lock.kind !== 'mutex') return;
      i++;
    }
  }

  private expireTimeouts(): void {
    for (const t of this.all) {
      if (t.state !== 'blocked' || t.waiting?.expiresAt === undefined || t.waiting.expiresAt > this.tick) continue;
      const lock = t.waiting.step.lock;
      lock.queue.splice(lock.queue.findIndex((w) => w.task === t), 1);
      this.emit(t.threadId, { type: 'lock-wait-ended', ts: 0, resourceId: lock.id, taskId: t.id, reason: 'timeout' });
      t.state = 'ready';
      t.waiting = undefined;
      this.dispatch(lock);
    }
  }
}

function makeLocks(): SimLock[] {
  const lock = (id: string, kind: ResourceKind, capacity = 1): SimLock => ({ id: `${PID}:0:${id}`, kind, capacity, holders: new Map(), queue: [] });
  return [lock('sem', 'semaphore', 3), lock('mutex', 'mutex'), lock('rw', 'rwlock'), lock('db', 'mutex'), lock('web', 'web-lock'), lock('sem2', 'semaphore', 2)];
}

/** Each task takes 1–3 locks, in the global order or (with probability `shuffled`) in random order; some waits time out, some are try-locks. */
function run(seed: number, tasks: number, shuffled: number): { sim: Scheduler; stuck: SimTask[] } {
  const rand = prng(seed);
  const locks = makeLocks();
  const sim = new Scheduler(rand, locks, 8);
  for (let i = 0; i < tasks; i++) {
    const chosen = locks.filter(() => rand() < 0.35).slice(0, 3);
    if (rand() < shuffled) chosen.sort(() => rand() - 0.5);
    const steps: Step[] = chosen.map((lock) => {
      const mode: LockMode = (lock.kind === 'rwlock' || lock.kind === 'web-lock') && rand() < 0.6 ? 'shared' : 'exclusive';
      const permits = lock.kind === 'semaphore' && rand() < 0.3 ? 2 : 1;
      const r = rand();
      const timeoutMs = r < 0.1 ? 0 : r < 0.25 ? 1 + Math.floor(rand() * 40) : undefined;
      return { lock, mode, permits, timeoutMs };
    });
    const task: SimTask = { id: `${PID}:${1 + (i % (THREADS - 1))}:t${i}`, threadId: 1 + (i % (THREADS - 1)), steps, next: 0, held: [], state: 'queued' };
    sim.all.push(task);
    sim.submit(task);
  }
  let guard = 0;
  while (sim.step()) {
    if (++guard % 7 === 0) sim.deliver();
    if (guard % 500 === 0) sim.findings.push(...sim.graph.checkPools(sim.tick));
  }
  sim.deliver(true);
  sim.findings.push(...sim.graph.detectDeadlocks(sim.tick));
  // Threads silent since before a cycle closed: the host's ticker confirms after deadlockConfirmMs.
  sim.findings.push(...sim.graph.confirmPending(sim.tick + 10_000));
  return { sim, stuck: sim.all.filter((t) => t.state === 'blocked') };
}

test('no false positives: thousands of tasks on a mutex, semaphores, an rwlock and a Web Lock under a queue, in lock order', () => {
  let events = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    const { sim, stuck } = run(seed, 2_000, 0);
    assert.deepEqual(stuck, [], `seed ${seed}: the scheduler itself ran to the end`);
    assert.deepEqual(sim.findings.map((f) => f.message), [], `seed ${seed}`);
    for (let t = 1; t < THREADS; t++) assert.deepEqual(sim.graph.onThreadExit(PID, t, sim.tick), []);
    assert.deepEqual(sim.graph.onThreadExit(PID, 0, sim.tick), []);
    assert.deepEqual(sim.graph.stats().resources, 1, 'the Web Lock lives as long as the process');
    assert.deepEqual(sim.graph.onProcessExit(PID, sim.tick), []);
    assert.deepEqual(sim.graph.stats(), { resources: 0, tasks: 0, holds: 0, waits: 0, orderPairs: 0 });
    events += sim.tick;
  }
  assert.ok(events > 10_000);
});

test('random lock orders: every deadlock reported is real, and every run that ends stuck was reported', () => {
  let stuckRuns = 0;
  for (let seed = 100; seed < 160; seed++) {
    const { sim, stuck } = run(seed, 300, 0.05);
    const deadlocks = sim.findings.filter((f) => f.kind === 'deadlock');
    const blocked = new Set(stuck.filter((t) => t.waiting?.expiresAt === undefined).map((t) => t.id));
    for (const f of deadlocks) {
      for (const p of f.participants) if (!p.detail.startsWith('bystander')) assert.ok(blocked.has(p.task as string), `seed ${seed}: ${p.task} in ${f.message} is not stuck`);
    }
    assert.equal(deadlocks.length > 0, blocked.size > 0, `seed ${seed}: stuck ${[...blocked].join(', ')}; found ${deadlocks.map((f) => f.message).join(' | ')}`);
    if (blocked.size > 0) stuckRuns++;
  }
  assert.ok(stuckRuns >= 5 && stuckRuns <= 55, `${stuckRuns} of 60 runs deadlocked: the fuzz should mix both outcomes`);
});
