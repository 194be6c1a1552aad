import type { AgentEvent } from '../protocol/agentEvents';
import type { LockAcquiredEvent, LockMode, LockReleasedEvent, LockWaitEvent, ResourceCreatedEvent, ResourceEvent } from '../protocol/resourceEvents';
import type { Finding, ReportResource } from '../protocol/report';
import type { ProcessTree } from './processTree';
import type { HoldState, ResourceState, TaskState, WaitState } from './resourceState';
import type { ThreadResourceView } from './resourceViews';
import { MAX_HELD_CONSIDERED } from './lockOrder';
import { applyPoolTask, applyQueueStats, newPool, starvationOf } from './poolStarvation';
import { exitFinding, inversionFinding, longHoldFinding, nonHolderReleaseFinding, selfDeadlockFinding, starvationFinding } from './resourceFindings';
import { blocksItself, capacityOf, hasTimeout, isCrossProcess, isLockKind, isSharedKind, usedPermits } from './resourceState';
import { ResourceDeadlocks } from './resourceDeadlocks';
import { threadKey } from './resourceStore';
import { reportResource, threadResourceViews } from './resourceViews';

/** Tuning of the resource graph. */
export interface ResourceGraphOptions {
  /** Shown relative to this directory in messages. */
  cwd?: string;
  /** Gives threads their names in messages. */
  tree?: ProcessTree;
  /** How long a pool must starve (same running items, each with its work queued behind it) before it is reported. */
  poolStarvationMs?: number;
  /** Most tasks one deadlock search looks at; beyond, it gives up (counted in `searchesGivenUp`). */
  maxSearchTasks?: number;
  /**
   * A cycle across threads whose streams have not all arrived up to the cycle's last event is held
   * back until they have (see `StreamClock`), or until this much host time has passed without
   * them (a thread silent that long has nothing left to send: the agent flushes within tens of ms).
   */
  deadlockConfirmMs?: number;
}

export const DEFAULT_POOL_STARVATION_MS = 1000;
export const DEFAULT_MAX_SEARCH_TASKS = 100_000;
export const DEFAULT_DEADLOCK_CONFIRM_MS = 250;

const RESOURCE_EVENT_TYPES: ReadonlySet<string> = new Set<ResourceEvent['type']>(['resource-created', 'lock-wait', 'lock-acquired', 'lock-released', 'lock-wait-ended', 'queue-stats', 'pool-task']);

/** Whether an event of a hub line is a resource event (the agent sends both kinds in the same lines). */
export function isResourceEvent(e: { type: string }): e is ResourceEvent {
  return RESOURCE_EVENT_TYPES.has(e.type);
}

/**
 * Locks, queues and pools of the process tree, who holds and waits for them, and the detectors
 * that read them (deadlock, self-deadlock, lock-order inversion, pool starvation, misuse). Pure:
 * the host feeds it resource events (and the agent events that name SharedArrayBuffers and block
 * threads) with its own clock, calls the checks on its ticker, and reads it back.
 *
 * Host wiring: for each event of a hub line, `apply` it when {@link isResourceEvent}, else give it
 * to the ProcessTree and to `observeAgentEvent`; call `onThreadExit` on `exit` / `worker-exited`
 * and `onProcessExit` when a process is gone; on the ticker call `confirmPending(now)`,
 * `checkPools(now)` and `checkLongHolds(now, thresholdMs)`. Every call returns the new findings.
 *
 * Memory: a task exists only while it holds or waits for something; keyed-lock keys only while
 * held or waited for; resources until their thread (futexes and Web Locks: their process) exits.
 */
export class ResourceGraph extends ResourceDeadlocks {
  private readonly poolStarvationMs: number;

  constructor(options: ResourceGraphOptions = {}) {
    super({
      cwd: options.cwd,
      tree: options.tree,
      maxSearchTasks: options.maxSearchTasks ?? DEFAULT_MAX_SEARCH_TASKS,
      deadlockConfirmMs: options.deadlockConfirmMs ?? DEFAULT_DEADLOCK_CONFIRM_MS,
    });
    this.poolStarvationMs = options.poolStarvationMs ?? DEFAULT_POOL_STARVATION_MS;
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Every resource with its holders and waiters, for the report. */
  resourcesForReport(): ReportResource[] {
    return [...this.resources.values()].map((r) => reportResource(r, this.namer));
  }

  /** The tasks of a thread that hold or wait for something (each with its holds, their sites, and its wait). */
  threadTasks(pid: number, threadId: number): TaskState[] {
    return [...(this.tasksByThread.get(threadKey(pid, threadId)) ?? [])].map((id) => this.tasks.get(id) as TaskState);
  }

  /** The resources thread `threadId` of `pid` owns or uses, for the live view. */
  threadResources(pid: number, threadId: number): ThreadResourceView[] {
    const pools = [...this.pools].map((id) => this.resources.get(id) as ResourceState);
    return threadResourceViews(pid, threadId, this.ownedByThread.get(threadKey(pid, threadId)) ?? [], this.threadTasks(pid, threadId), pools, (id) => this.resources.get(id));
  }

  /**
   * Agent events the graph learns from: `worker-created` (buffers handed to a worker), `block` and
   * `unblock` (buffer labels; a thread blocked in Atomics.wait cannot run its async tasks). May
   * return deadlocks that the new knowledge closes.
   */
  observeAgentEvent(pid: number, threadId: number, event: AgentEvent, now: number): Finding[] {
    let learned = false;
    const key = threadKey(pid, threadId);
    this.streams.saw(key, event.ts, event.type === 'block');
    if (event.type === 'worker-created') learned = this.bufferNames.recordWorker(pid, threadId, event);
    if (event.type === 'unblock') this.blockedThreads.delete(key);
    if (event.type === 'block' && event.on.kind === 'atomics.wait') {
      learned = this.bufferNames.observe(pid, threadId, event.on.buffer);
      if (event.on.timeoutMs === null) this.blockedThreads.add(key);
    }
    const findings = learned ? this.detectOnWaitersOf(this.renameFutexes(), now) : [];
    if (event.type === 'block' && this.blockedThreads.has(key)) findings.push(...this.detectFrom([`thread:${pid}:${threadId}`], now));
    if (this.pending.size > 0) findings.push(...this.confirmPending(now, key));
    return findings;
  }

  // ---- resource events -----------------------------------------------------------------------

  /** Applies one resource event from thread `threadId` of `pid`; returns what it lets us find at once. */
  apply(pid: number, threadId: number, e: ResourceEvent, now: number): Finding[] {
    const key = threadKey(pid, threadId);
    this.streams.saw(key, e.ts);
    const findings = this.applyEvent(pid, threadId, e, now);
    if (this.pending.size > 0) findings.push(...this.confirmPending(now, key));
    return findings;
  }

  private applyEvent(pid: number, threadId: number, e: ResourceEvent, now: number): Finding[] {
    switch (e.type) {
      case 'resource-created':
        this.onCreated(pid, threadId, e, now);
        return [];
      case 'lock-wait':
        return this.onWait(pid, threadId, e, now);
      case 'lock-acquired':
        return this.onAcquired(pid, threadId, e, now);
      case 'lock-released':
        return this.onReleased(pid, threadId, e, now);
      case 'lock-wait-ended': {
        const t = this.tasks.get(e.taskId);
        const id = this.canonicalResourceId(e.resourceId);
        if (t?.wait && (t.wait.resourceId === id || this.resources.get(t.wait.resourceId)?.parentId === id)) this.endWait(t);
        return [];
      }
      case 'queue-stats': {
        const r = this.ensureResource(e.resourceId, pid, threadId, now, 'queue');
        applyQueueStats((r.pool ??= newPool()), e, now);
        this.pools.add(r.id);
        return this.poolChanged(r, now);
      }
      case 'pool-task': {
        const r = this.ensureResource(e.resourceId, pid, threadId, now, 'pool');
        applyPoolTask((r.pool ??= newPool()), e, pid, threadId, now);
        this.pools.add(r.id);
        return this.poolChanged(r, now);
      }
    }
  }

  private onCreated(pid: number, threadId: number, e: ResourceCreatedEvent, now: number): void {
    const id = this.canonicalResourceId(e.resourceId);
    const existing = this.resources.get(id);
    // A futex named by several threads: the view of the thread that named the buffer wins.
    const namesFutex = existing?.kind === 'futex' && id === e.resourceId && (existing.pid !== pid || existing.threadId !== threadId);
    // A shared lock or queue another thread announced first from a use: its creator's event names it, and the creator owns it.
    const createsSeenByUse = existing?.seenByUse === true && e.seenByUse !== true;
    if (existing && !existing.placeholder && !namesFutex && !createsSeenByUse) return;
    if (existing && createsSeenByUse) this.changeOwner(existing, pid, threadId);
    const r = existing ?? this.ensureResource(id, pid, threadId, now, e.kind);
    Object.assign(r, { kind: e.kind, library: e.library, name: e.name, reentrant: e.reentrant === true, placeholder: false });
    if (e.seenByUse === true) r.seenByUse = true;
    else delete r.seenByUse;
    if (e.site) r.site = e.site;
    if (e.capacity !== undefined) r.capacity = e.capacity;
    if (e.kind === 'queue' || e.kind === 'pool') {
      r.pool ??= newPool();
      this.pools.add(r.id);
    }
  }

  private onWait(pid: number, threadId: number, e: LockWaitEvent, now: number): Finding[] {
    const r = this.effective(this.ensureResource(e.resourceId, pid, threadId, now, undefined, e.mode, e.key), e.key, now);
    const t = this.ensureTask(e.taskId, pid, threadId);
    const old = this.endWait(t, false);
    if (old && old !== r) this.forgetKeyIfIdle(old);
    const w: WaitState = { resourceId: r.id, taskId: t.id, pid, threadId, mode: e.mode ?? 'exclusive', permits: e.permits ?? 1, timeoutMs: e.timeoutMs ?? null, since: now, at: e.ts };
    if (e.key !== undefined) w.key = e.key;
    if (e.site) w.site = e.site;
    if (e.stack) w.stack = e.stack;
    r.waiters.set(t.id, w);
    t.wait = w;
    if (hasTimeout(w)) return [];
    const hold = t.holds.get(r.id);
    if (hold && blocksItself(r, hold, w)) {
      this.remember(this.deadlocked, t.id);
      const f = selfDeadlockFinding(this.namer, r, t, hold, w, now);
      return this.report(f) ? [f] : [];
    }
    return this.detectFrom([t.id], now);
  }

  /**
   * A grant. The agent may report an uncontended acquisition late (only once another task queues
   * for the lock), with its original `ts`: such a report does not end a wait the task began after
   * it, and its order edges are drawn by agent time, not by arrival.
   */
  private onAcquired(pid: number, threadId: number, e: LockAcquiredEvent, now: number): Finding[] {
    const r = this.effective(this.ensureResource(e.resourceId, pid, threadId, now, undefined, e.mode, e.key), e.key, now);
    const t = this.ensureTask(e.taskId, pid, threadId);
    if (e.steal === true) this.stealFromHolders(r, t.id);
    const wait = t.wait && (t.wait.resourceId === r.id || e.ts >= t.wait.at) ? t.wait : undefined;
    if (wait) {
      const old = this.endWait(t, false);
      if (old && old !== r) this.forgetKeyIfIdle(old);
    }
    const mode: LockMode = e.mode ?? wait?.mode ?? 'exclusive';
    const site = e.site ?? wait?.site;
    const stack = e.stack ?? wait?.stack;
    // An acquisition that could give up by itself (a timed wait, tryAcquire) cannot deadlock: no order edge.
    const blocking = !(wait && wait.resourceId === r.id && hasTimeout(wait));
    const findings = blocking && !t.holds.has(r.id) ? this.recordOrder(t, r, { mode, site, stack, at: e.ts }, now) : [];
    const permits = e.permits ?? wait?.permits ?? 1;
    let hold = t.holds.get(r.id);
    if (hold) {
      hold.count++;
      hold.permits += permits;
      if (mode === 'exclusive') hold.mode = 'exclusive';
    } else {
      // A late report: date the hold back by its age in agent time.
      const since = now - Math.max(0, this.streams.last(threadKey(pid, threadId)) - e.ts);
      hold = { resourceId: r.id, taskId: t.id, pid, threadId, mode, permits, count: 1, since, at: e.ts, longHoldReported: false };
      if (e.key !== undefined) hold.key = e.key;
      if (site) hold.site = site;
      if (stack) hold.stack = stack;
      t.holds.set(r.id, hold);
      r.holders.set(t.id, hold);
    }
    r.maxUsed = Math.max(r.maxUsed, usedPermits(r));
    return findings;
  }

  /** A steal: the other holders lost the lock now; their callbacks' releases, when they come, end nothing. */
  private stealFromHolders(r: ResourceState, thief: string): void {
    for (const [taskId, hold] of [...r.holders]) {
      if (taskId === thief) continue;
      hold.count = 1;
      this.releaseHold(hold, hold.permits);
      (r.stolenFrom ??= new Set()).add(taskId);
    }
  }

  /**
   * Order edges between a new acquisition of `r` and each lock the task holds: held → r, or r → held
   * when the held lock was in fact taken after this one (a late report). Gate locks are the other
   * exclusive locks held when the later of the two was taken.
   */
  private recordOrder(t: TaskState, r: ResourceState, acq: { mode: LockMode; site: HoldState['site']; stack: HoldState['stack']; at: number }, now: number): Finding[] {
    if (!orderable(r) || t.holds.size === 0) return [];
    const held = [...t.holds.values()].filter((h) => orderable(this.resources.get(h.resourceId))).slice(0, MAX_HELD_CONSIDERED);
    const gateHolds = held.filter((h) => isGate(this.resources.get(h.resourceId), h));
    const findings: Finding[] = [];
    for (const h of held) {
      const reversed = h.at > acq.at;
      const later = reversed ? h.at : acq.at;
      const gates = gateHolds.filter((g) => g !== h && g.at <= later).map((g) => g.resourceId);
      const first = reversed ? { id: r.id, mode: acq.mode, site: acq.site, stack: acq.stack } : { id: h.resourceId, mode: h.mode, site: h.site, stack: h.stack };
      const second = reversed ? { id: h.resourceId, mode: h.mode, site: h.site, stack: h.stack } : { id: r.id, mode: acq.mode, site: acq.site, stack: acq.stack };
      const sample = {
        from: first.id,
        to: second.id,
        taskId: t.id,
        pid: t.pid,
        threadId: t.threadId,
        fromMode: first.mode,
        toMode: second.mode,
        fromSite: first.site,
        fromStack: first.stack,
        toSite: second.site,
        toStack: second.stack,
        gates: gates.filter((g) => g !== first.id && g !== second.id).sort(),
      };
      for (const inv of this.order.record(sample)) {
        const f = inversionFinding(this.namer, this.resources.get(inv.forward.from), this.resources.get(inv.forward.to), inv, now);
        if (this.report(f)) findings.push(f);
      }
    }
    return findings;
  }

  private onReleased(pid: number, threadId: number, e: LockReleasedEvent, now: number): Finding[] {
    const base = this.ensureResource(e.resourceId, pid, threadId, now);
    const holderId = e.holderTaskId ?? e.taskId;
    let r = base;
    if (base.kind === 'keyed-lock' && !base.parentId) {
      if (e.key !== undefined) r = this.effective(base, e.key, now);
      else {
        const h = [...(this.tasks.get(holderId)?.holds.values() ?? [])].find((x) => this.resources.get(x.resourceId)?.parentId === base.id);
        if (h) r = this.resources.get(h.resourceId) as ResourceState;
      }
    }
    // Holds taken before the lock was known to be keyed stay on the lock itself.
    if (!r.holders.has(holderId) && base.holders.has(holderId)) r = base;
    const findings: Finding[] = [];
    if (r.stolenFrom?.delete(holderId) === true && !r.holders.has(holderId)) return findings;
    const warns = r.kind !== 'semaphore' && r.kind !== 'futex';
    const hold = r.holders.get(holderId);
    if (hold) {
      if (warns && e.holderTaskId !== undefined && e.holderTaskId !== e.taskId) {
        const f = nonHolderReleaseFinding(this.namer, r, e, pid, threadId, hold, now);
        if (this.report(f)) findings.push(f);
      }
      this.releaseHold(hold, e.permits);
      return findings;
    }
    // Released by a task that does not hold it: the library released it all the same (the oldest hold).
    const oldest = r.holders.values().next().value as HoldState | undefined;
    if (warns && (oldest || r.kind === 'mutex' || r.kind === 'rwlock' || r.kind === 'keyed-lock') && !r.placeholder) {
      const f = nonHolderReleaseFinding(this.namer, r, e, pid, threadId, oldest, now);
      if (this.report(f)) findings.push(f);
    }
    if (oldest) this.releaseHold(oldest, e.permits);
    return findings;
  }

  // ---- checks the host calls on its ticker -----------------------------------------------------

  /** Locks held for `thresholdMs` or longer: one warning per hold (and per site). */
  checkLongHolds(now: number, thresholdMs: number): Finding[] {
    const findings: Finding[] = [];
    for (const r of this.resources.values()) {
      if (!isLockKind(r.kind)) continue;
      for (const h of r.holders.values()) {
        if (h.longHoldReported || now - h.since < thresholdMs || this.deadlocked.has(h.taskId)) continue;
        h.longHoldReported = true;
        const f = longHoldFinding(this.namer, r, h, now);
        if (this.report(f)) findings.push(f);
      }
    }
    return findings;
  }

  /** Pools that have starved for the configured time. */
  checkPools(now: number): Finding[] {
    const findings: Finding[] = [];
    for (const id of [...this.pools]) {
      const r = this.resources.get(id);
      if (!r?.pool?.starving || r.pool.starving.reported || now - r.pool.starving.since < this.poolStarvationMs) continue;
      if (this.poolThreadRuns(r)) {
        // The grace period counts from when the last worker stopped computing: the ends of the items
        // it ran come from the pool's own thread, and may still be on their way when the workers'
        // own news (idle, exited) is here.
        r.pool.starving.since = now;
        continue;
      }
      findings.push(...this.reportStarvation(r, now));
    }
    return findings;
  }

  private poolChanged(r: ResourceState, now: number): Finding[] {
    const pool = r.pool;
    if (!pool) return [];
    const s = starvationOf(r);
    if (!s) pool.starving = undefined;
    else if (pool.starving?.key !== s.key) pool.starving = { key: s.key, since: now, reported: false };
    return pool.starving && this.poolStarvationMs <= 0 ? this.reportStarvation(r, now) : [];
  }

  /**
   * A worker-thread pool with a thread still running (computing, by its last sample) is not starved
   * yet: its item may finish without what it queued (a follow-up job, not a subtask it waits for).
   * Starvation needs every worker blocked or asleep.
   */
  private poolThreadRuns(r: ResourceState): boolean {
    if (!r.pool || r.pool.workers.size === 0 || !this.tree) return false;
    const threads = this.tree.get(r.pid)?.threads;
    return [...r.pool.workers].some((id) => threads?.get(id)?.status === 'running');
  }

  private reportStarvation(r: ResourceState, now: number): Finding[] {
    const s = starvationOf(r);
    if (!s || !r.pool?.starving || r.pool.starving.reported) return [];
    r.pool.starving.reported = true;
    const f = { ...starvationFinding(this.namer, r, s, now), since: r.pool.starving.since };
    return this.report(f) ? [f] : [];
  }

  // ---- exits ---------------------------------------------------------------------------------

  /**
   * A thread exited: warns about locks it still held and requests it left pending (unless they are
   * part of a reported deadlock), with the tasks of other threads orphaned behind them; reports a
   * pool it owned that was starving; then forgets its tasks and its thread-local resources.
   */
  onThreadExit(pid: number, threadId: number, now: number): Finding[] {
    return this.exitThread(pid, threadId, now, false);
  }

  /** A process exited: as {@link onThreadExit} for each of its threads, then forgets all its resources. */
  onProcessExit(pid: number, now: number): Finding[] {
    const threads = new Set<number>();
    for (const map of [this.tasksByThread, this.ownedByThread]) for (const key of map.keys()) if (key.startsWith(`${pid}:`)) threads.add(Number(key.slice(key.indexOf(':') + 1)));
    const findings: Finding[] = [];
    for (const threadId of [...threads].sort((a, b) => a - b)) findings.push(...this.exitThread(pid, threadId, now, true));
    const gone = new Set<string>();
    for (const r of this.resources.values()) if (r.pid === pid) gone.add(r.id);
    this.forgetResources(gone);
    return findings;
  }

  private exitThread(pid: number, threadId: number, now: number, processExit: boolean): Finding[] {
    const key = threadKey(pid, threadId);
    const findings: Finding[] = [];
    for (const id of this.ownedByThread.get(key) ?? []) {
      const r = this.resources.get(id);
      if (r?.pool?.starving && !r.pool.starving.reported) findings.push(...this.reportStarvation(r, now));
    }
    if (this.pending.size > 0) findings.push(...this.confirmPendingOfExiting(this.tasksByThread.get(key) ?? new Set(), now));
    const tasks = [...(this.tasksByThread.get(key) ?? [])].map((id) => this.tasks.get(id) as TaskState);
    const live = tasks.filter((t) => !this.deadlocked.has(t.id));
    // When the whole process ends, what only its own threads could use ends with it (a daemon
    // worker killed in the middle of taking a lock is no bug): only locks other processes share
    // are left behind held or waited for.
    // The main thread's exit is its process's.
    const processEnds = processExit || threadId === 0;
    const leftBehind = (resourceId: string): boolean => !processEnds || isCrossProcess(resourceId);
    const holds = live.flatMap((t) => [...t.holds.values()]).filter((h) => leftBehind(h.resourceId));
    const pending = live.flatMap((t) => (t.wait ? [t.wait] : [])).filter((w) => leftBehind(w.resourceId));
    const orphans: WaitState[] = [];
    for (const h of holds) {
      for (const w of this.resources.get(h.resourceId)?.waiters.values() ?? []) if (threadKey(w.pid, w.threadId) !== key && !(processEnds && w.pid === pid)) orphans.push(w);
    }
    if (holds.length > 0 || pending.length > 0) {
      const f = exitFinding(this.namer, this, pid, threadId, holds, pending, orphans, now, processExit);
      if (this.report(f)) findings.push(f);
    }
    for (const t of tasks) {
      this.endWait(t);
      for (const h of [...t.holds.values()]) {
        h.count = 1;
        this.releaseHold(h, h.permits);
      }
      this.forgetTaskIfIdle(t);
    }
    this.blockedThreads.delete(key);
    this.streams.forget(key);
    const gone = new Set<string>();
    for (const id of this.ownedByThread.get(key) ?? []) {
      const r = this.resources.get(id);
      if (r && !isSharedKind(r.kind)) gone.add(id);
    }
    this.forgetResources(gone);
    return findings;
  }

}

/** Locks that take part in lock ordering: not queues and pools, not counting semaphores (they deadlock only when exhausted). */
function orderable(r: ResourceState | undefined): boolean {
  return r !== undefined && isLockKind(r.kind) && !(r.kind === 'semaphore' && capacityOf(r) > 1);
}

/** A lock that lets one task in at a time: holding it serialises what is done under it. */
function isGate(r: ResourceState | undefined, h: HoldState): boolean {
  return r !== undefined && h.mode === 'exclusive' && isLockKind(r.kind) && capacityOf(r) === 1;
}
