import type { Finding } from '../protocol/report';
import type { ProcessTree } from './processTree';
import { findStuck, mayBeStuck, stuckCycles } from './deadlockSearch';
import { deadlockFinding, Namer } from './resourceFindings';
import { ResourceStore, threadKey } from './resourceStore';
import { cycleDependencies, latestTs, StreamClock } from './streamClock';

/** Finding ids and cycles remembered for dedupe (oldest forgotten first). */
export const MAX_REMEMBERED = 10_000;

/** Tuning of the deadlock search. */
export interface DeadlockOptions {
  cwd?: string;
  tree?: ProcessTree;
  maxSearchTasks: number;
  deadlockConfirmMs: number;
}

/**
 * The deadlock half of {@link ResourceGraph}: searches from a new waiter, reports each cycle once
 * (holding back cycles across threads until the host has heard from all of them, see
 * {@link StreamClock}), and dedupes findings by id.
 */
export class ResourceDeadlocks extends ResourceStore {
  /** Deadlock searches abandoned at `maxSearchTasks`. */
  searchesGivenUp = 0;
  protected readonly namer: Namer;
  /** The process tree, when the host has one (thread names, thread states). */
  protected readonly tree: ProcessTree | undefined;
  protected readonly streams = new StreamClock();
  private readonly maxSearchTasks: number;
  private readonly deadlockConfirmMs: number;
  private readonly reportedIds = new Set<string>();
  private readonly reportedCycles = new Set<string>();
  /** Cycles found while some of their threads had not been heard from up to the cycle's time. */
  protected readonly pending = new Map<string, { members: string[]; threads: Set<string>; foundAt: number }>();
  /** Keys of the cycles the last search found (reported, pending or already known). */
  private lastCycleKeys = new Set<string>();

  constructor(options: DeadlockOptions) {
    super();
    this.tree = options.tree;
    this.namer = new Namer(options.cwd, options.tree);
    this.maxSearchTasks = options.maxSearchTasks;
    this.deadlockConfirmMs = options.deadlockConfirmMs;
  }

  /**
   * Searches for deadlocks among the tasks reachable from `starts`; reports each new cycle once
   * (the cycle `trusted` even if some of its threads have not been heard from).
   */
  protected detectFrom(starts: string[], now: number, trusted?: string): Finding[] {
    this.lastCycleKeys = new Set();
    const search = findStuck(this, starts, this.maxSearchTasks);
    if (search.gaveUp) this.searchesGivenUp++;
    if (search.stuck.size === 0) return [];
    const findings: Finding[] = [];
    const edges = new Map<string, string[]>();
    for (const cycle of stuckCycles(this, search.stuck, starts[0], edges)) {
      const key = [...cycle].sort().join('\n');
      this.lastCycleKeys.add(key);
      if (this.reportedCycles.has(key) || (cycle.length === 1 && this.deadlocked.has(cycle[0]))) continue;
      const unheard = key === trusted ? [] : this.unheardThreads(cycle, search.stuck, edges);
      if (unheard.length > 0) {
        if (!this.pending.has(key)) this.pending.set(key, { members: cycle, threads: new Set(unheard), foundAt: now });
        continue;
      }
      this.pending.delete(key);
      this.remember(this.reportedCycles, key);
      const bystanders = this.bystanders(cycle);
      for (const id of [...cycle, ...bystanders.filter((b) => search.stuck.has(b))]) this.remember(this.deadlocked, id);
      const f = deadlockFinding(this, this.namer, cycle, bystanders, now);
      // The cycle closed when its last wait began, by the waiting thread's clock (epoch ms, as ours):
      // the time the event spent on its way here is part of the detection latency.
      f.since = 0;
      for (const id of cycle) {
        const wait = this.tasks.get(id)?.wait;
        if (wait) f.since = Math.max(f.since, wait.at > 0 ? Math.min(wait.at, wait.since) : wait.since);
      }
      if (this.report(f)) findings.push(f);
    }
    return findings;
  }

  /** Threads the cycle rests on that have not been heard from up to the cycle's last event (none when all its tasks share a thread: one stream is always consistent). */
  protected unheardThreads(cycle: string[], stuck: Set<string>, edges: Map<string, string[]>): string[] {
    const tasks = cycleDependencies(this, cycle, stuck, edges);
    const threads = new Set(tasks.map((t) => threadKey(t.pid, t.threadId)));
    if (threads.size <= 1) return [];
    // Waits, grants and releases of Web Locks and published shared locks are written the moment they
    // happen (agent: LockTracker), so the hub's order is their real order: nothing can be unheard.
    if (tasks.every((t) => t.wait !== undefined && isWrittenAtOnce(t.wait.resourceId) && [...t.holds.keys()].every(isWrittenAtOnce))) return [];
    const ts = latestTs(tasks);
    return [...threads].filter((thread) => !this.streams.fresh(thread, ts));
  }

  /**
   * Re-examines the held-back cycles (those waiting on `thread` only, when given): reports those
   * whose threads have now been heard from, or that have waited `deadlockConfirmMs`, if they still
   * hold; forgets those that dissolved. Call it on the host ticker too.
   */
  confirmPending(now: number, thread?: string): Finding[] {
    const findings: Finding[] = [];
    for (const [key, p] of [...this.pending]) {
      const timedOut = now - p.foundAt >= this.deadlockConfirmMs;
      if (!timedOut && thread !== undefined && !p.threads.has(thread)) continue;
      findings.push(...this.detectFrom(p.members, now, timedOut ? key : undefined));
      if (!this.lastCycleKeys.has(key)) this.pending.delete(key);
    }
    return findings;
  }

  /**
   * A thread is exiting (`taskIds`: its tasks): its stream is complete, and a task of it still waiting at its exit
   * waited in the cycle until then. The held-back cycles with one of its tasks are reported now,
   * if they still hold — its exit is about to release what it held and dissolve them.
   */
  protected confirmPendingOfExiting(taskIds: ReadonlySet<string>, now: number): Finding[] {
    const findings: Finding[] = [];
    for (const [key, p] of [...this.pending]) {
      if (!p.members.some((id) => taskIds.has(id))) continue;
      findings.push(...this.detectFrom(p.members, now, key));
      this.pending.delete(key);
    }
    return findings;
  }

  /** Tasks that wait for what the cycle's tasks hold, outside the cycle. */
  protected bystanders(cycle: string[]): string[] {
    const members = new Set(cycle);
    const out = new Set<string>();
    for (const id of cycle) {
      for (const h of this.tasks.get(id)?.holds.values() ?? []) {
        for (const w of this.resources.get(h.resourceId)?.waiters.values() ?? []) if (!members.has(w.taskId)) out.add(w.taskId);
      }
    }
    return [...out];
  }

  protected detectOnWaitersOf(resourceIds: string[], now: number): Finding[] {
    const starts = resourceIds.flatMap((id) => [...(this.resources.get(id)?.waiters.keys() ?? [])]);
    return starts.length > 0 ? this.detectFrom(starts, now) : [];
  }

  /** A full search over every waiting task (after a change no single wait explains; for tests). */
  detectDeadlocks(now: number): Finding[] {
    const starts = [...this.tasks.values()].filter((t) => mayBeStuck(this, t)).map((t) => t.id);
    return starts.length > 0 ? this.detectFrom(starts, now) : [];
  }

  protected report(f: Finding): boolean {
    if (this.reportedIds.has(f.id)) return false;
    this.remember(this.reportedIds, f.id);
    return true;
  }

  protected remember(set: Set<string>, value: string): void {
    set.add(value);
    if (set.size > MAX_REMEMBERED) set.delete(set.values().next().value as string);
  }
}

/** Resources whose every event the agent writes at once (see LockTracker.wait / sendHolding / released). */
function isWrittenAtOnce(resourceId: string): boolean {
  return resourceId.startsWith('weblock:') || resourceId.startsWith('published:');
}
