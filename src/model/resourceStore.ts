import type { SharedBufferRef } from '../protocol/agentEvents';
import type { LockMode } from '../protocol/resourceEvents';
import type { DeadlockWorld } from './deadlockSearch';
import type { HoldState, ResourceState, TaskState } from './resourceState';
import { LockOrderGraph } from './lockOrder';
import { hasTimeout, usedPermits } from './resourceState';
import { futexId, parseFutexId, SharedBufferNames } from './sharedBufferNames';

/** `pid:threadId`. */
export function threadKey(pid: number, threadId: number): string {
  return `${pid}:${threadId}`;
}

/**
 * The bookkeeping under {@link ResourceGraph}: resources, tasks, holds and waits, indexed by thread,
 * with canonical futex names. Keeps itself consistent (a task exists only while it holds or waits
 * for something; a keyed-lock key only while held or waited for); decides nothing.
 */
export class ResourceStore implements DeadlockWorld {
  readonly bufferNames = new SharedBufferNames();
  readonly order = new LockOrderGraph();
  protected readonly resources = new Map<string, ResourceState>();
  protected readonly tasks = new Map<string, TaskState>();
  protected readonly tasksByThread = new Map<string, Set<string>>();
  protected readonly ownedByThread = new Map<string, Set<string>>();
  protected readonly futexes = new Set<string>();
  protected readonly pools = new Set<string>();
  /** Threads blocked in Atomics.wait without a timeout (agent `block` events). */
  protected readonly blockedThreads = new Set<string>();
  /** Tasks in a reported deadlock (or waiting behind one): no more warnings about them. */
  protected readonly deadlocked = new Set<string>();

  resource(id: string): ResourceState | undefined {
    return this.resources.get(id);
  }

  task(id: string): TaskState | undefined {
    return this.tasks.get(id);
  }

  allResources(): ResourceState[] {
    return [...this.resources.values()];
  }

  /** The thread task keeping `t`'s thread blocked for ever, if any (see {@link DeadlockWorld.freezer}). */
  freezer(t: TaskState): TaskState | undefined {
    if (this.blockedThreads.size === 0 || t.id.startsWith('thread:') || !this.blockedThreads.has(threadKey(t.pid, t.threadId))) return undefined;
    const tt = this.tasks.get(`thread:${t.pid}:${t.threadId}`);
    return tt?.wait && !hasTimeout(tt.wait) ? tt : undefined;
  }

  /** Counts, for measurements and the status line. */
  stats(): { resources: number; tasks: number; holds: number; waits: number; orderPairs: number } {
    let holds = 0;
    let waits = 0;
    for (const r of this.resources.values()) {
      holds += r.holders.size;
      waits += r.waiters.size;
    }
    return { resources: this.resources.size, tasks: this.tasks.size, holds, waits, orderPairs: this.order.size };
  }

  /**
   * The canonical id of a SharedArrayBuffer as thread `threadId` of `pid` reported it (learning its
   * label, and merging futexes already known under another name). Futexes merged here are not
   * searched for deadlocks: feed block events through `observeAgentEvent`, which does.
   */
  canonicalBufferId(pid: number, threadId: number, ref: SharedBufferRef): string {
    if (this.bufferNames.observe(pid, threadId, ref)) this.renameFutexes();
    return this.bufferNames.resolve(ref.id);
  }

  /** A resource id with its futex address named canonically. */
  canonicalResourceId(resourceId: string): string {
    const futex = parseFutexId(resourceId);
    return futex ? futexId(this.bufferNames.resolve(futex.bufferId), futex.byteOffset) : resourceId;
  }

  protected releaseHold(h: HoldState, permits: number | undefined): void {
    const released = permits ?? Math.max(1, Math.round(h.permits / h.count));
    h.count--;
    h.permits -= released;
    if (h.count > 0 && h.permits > 0) return;
    const r = this.resources.get(h.resourceId);
    r?.holders.delete(h.taskId);
    const t = this.tasks.get(h.taskId);
    t?.holds.delete(h.resourceId);
    if (t) this.forgetTaskIfIdle(t);
    if (r) this.forgetKeyIfIdle(r);
  }

  /**
   * Ends a task's wait (granted, timed out, cancelled, replaced) and returns the resource it waited
   * for. With `forget`, an idle task and an idle key are forgotten; without, the caller is about to
   * give the task something new (and forgets the old key itself).
   */
  protected endWait(t: TaskState, forget = true): ResourceState | undefined {
    const w = t.wait;
    if (!w) return undefined;
    t.wait = undefined;
    const r = this.resources.get(w.resourceId);
    if (r && r.waiters.get(t.id) === w) r.waiters.delete(t.id);
    if (forget) {
      this.forgetTaskIfIdle(t);
      if (r) this.forgetKeyIfIdle(r);
    }
    return r;
  }

  protected forgetResources(ids: Set<string>): void {
    if (ids.size === 0) return;
    for (const r of [...this.resources.values()]) if (r.parentId !== undefined && ids.has(r.parentId)) ids.add(r.id);
    for (const id of ids) {
      const r = this.resources.get(id);
      if (!r) continue;
      for (const w of [...r.waiters.values()]) this.endWait(this.tasks.get(w.taskId) as TaskState);
      for (const h of [...r.holders.values()]) {
        h.count = 1;
        this.releaseHold(h, h.permits);
      }
      this.resources.delete(id);
      this.ownedByThread.get(threadKey(r.pid, r.threadId))?.delete(id);
      this.futexes.delete(id);
      this.pools.delete(id);
    }
    for (const [key, set] of this.ownedByThread) if (set.size === 0) this.ownedByThread.delete(key);
    this.order.forget(ids);
  }

  /**
   * The resource an event names, made as a placeholder when its `resource-created` has not arrived
   * (kind guessed from the id and the event: futex, Web Lock, keyed lock when a key is given, rwlock
   * when shared, else a semaphore of unknown capacity — the kind that assumes the least).
   */
  protected ensureResource(rawId: string, pid: number, threadId: number, now: number, kind?: ResourceState['kind'], mode?: LockMode, key?: string): ResourceState {
    const id = this.canonicalResourceId(rawId);
    let r = this.resources.get(id);
    if (r) {
      if (r.placeholder && r.kind === 'semaphore' && mode === 'shared') r.kind = 'rwlock';
      if (r.placeholder && r.kind === 'semaphore' && key !== undefined && r.holders.size === 0 && r.waiters.size === 0) r.kind = 'keyed-lock';
      return r;
    }
    const guessed = kind ?? (id.startsWith('futex:') ? 'futex' : id.startsWith('weblock:') ? 'web-lock' : key !== undefined ? 'keyed-lock' : mode === 'shared' ? 'rwlock' : 'semaphore');
    const name = id.startsWith('weblock:') ? id.slice(id.indexOf(':', 'weblock:'.length) + 1) : id;
    r = { id, kind: guessed, library: '?', name, reentrant: false, pid, threadId, createdAt: now, placeholder: true, holders: new Map(), waiters: new Map(), maxUsed: 0 };
    this.resources.set(id, r);
    this.addOwned(id, pid, threadId);
    if (guessed === 'futex') this.futexes.add(id);
    return r;
  }

  /** Makes thread `threadId` of `pid` the owner of `r` (it goes with that thread's exit). */
  protected changeOwner(r: ResourceState, pid: number, threadId: number): void {
    const before = threadKey(r.pid, r.threadId);
    const owned = this.ownedByThread.get(before);
    owned?.delete(r.id);
    if (owned?.size === 0) this.ownedByThread.delete(before);
    r.pid = pid;
    r.threadId = threadId;
    this.addOwned(r.id, pid, threadId);
  }

  private addOwned(id: string, pid: number, threadId: number): void {
    const thread = threadKey(pid, threadId);
    let owned = this.ownedByThread.get(thread);
    if (!owned) this.ownedByThread.set(thread, (owned = new Set()));
    owned.add(id);
  }

  /** Keyed locks: the resource of one key (made on first use, forgotten when idle). */
  protected effective(r: ResourceState, key: string | undefined, now: number): ResourceState {
    if (r.kind !== 'keyed-lock' || key === undefined || r.parentId !== undefined) return r;
    const id = `${r.id}[${JSON.stringify(key)}]`;
    let sub = this.resources.get(id);
    if (!sub) {
      sub = { ...r, id, name: `${r.name}[${JSON.stringify(key)}]`, parentId: r.id, createdAt: now, placeholder: false, holders: new Map(), waiters: new Map(), maxUsed: 0 };
      delete sub.pool;
      this.resources.set(id, sub);
    }
    return sub;
  }

  protected forgetKeyIfIdle(r: ResourceState): void {
    if (r.parentId !== undefined && r.holders.size === 0 && r.waiters.size === 0) this.resources.delete(r.id);
  }

  protected ensureTask(id: string, pid: number, threadId: number): TaskState {
    let t = this.tasks.get(id);
    if (!t) {
      t = { id, pid, threadId, holds: new Map() };
      this.tasks.set(id, t);
      const key = threadKey(pid, threadId);
      let set = this.tasksByThread.get(key);
      if (!set) this.tasksByThread.set(key, (set = new Set()));
      set.add(id);
    }
    return t;
  }

  protected forgetTaskIfIdle(t: TaskState): void {
    if (t.holds.size > 0 || t.wait) return;
    this.tasks.delete(t.id);
    this.deadlocked.delete(t.id);
    const key = threadKey(t.pid, t.threadId);
    const set = this.tasksByThread.get(key);
    set?.delete(t.id);
    if (set?.size === 0) this.tasksByThread.delete(key);
  }

  protected mergeInto(fromId: string, toId: string): string {
    const from = this.resources.get(fromId) as ResourceState;
    let to = this.resources.get(toId);
    this.resources.delete(fromId);
    this.futexes.delete(fromId);
    this.ownedByThread.get(threadKey(from.pid, from.threadId))?.delete(fromId);
    if (!to) {
      to = { ...from, id: toId, holders: new Map(), waiters: new Map() };
      this.resources.set(toId, to);
      this.futexes.add(toId);
      this.ownedByThread.get(threadKey(from.pid, from.threadId))?.add(toId);
    }
    for (const h of from.holders.values()) {
      const t = this.tasks.get(h.taskId) as TaskState;
      t.holds.delete(fromId);
      const existing = to.holders.get(h.taskId);
      if (existing) {
        existing.count += h.count;
        existing.permits += h.permits;
        continue;
      }
      h.resourceId = toId;
      t.holds.set(toId, h);
      to.holders.set(h.taskId, h);
    }
    for (const w of from.waiters.values()) {
      w.resourceId = toId;
      to.waiters.set(w.taskId, w);
    }
    to.maxUsed = Math.max(to.maxUsed, usedPermits(to));
    return toId;
  }

  /** Re-keys futex resources whose buffer now has another canonical id (merging the views); returns the resources that moved. */
  protected renameFutexes(): string[] {
    const moved: string[] = [];
    for (const id of [...this.futexes]) {
      const canonical = this.canonicalResourceId(id);
      if (canonical !== id) moved.push(this.mergeInto(id, canonical));
    }
    return moved;
  }
}
