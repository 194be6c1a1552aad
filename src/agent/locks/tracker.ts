/**
 * What one thread knows of its locks, queues and pools, and the ResourceEvents it sends about them.
 * Library adapters (asyncMutex.ts, …) report creations, waits, grants and releases here.
 *
 * Cost policy: a resource reports every acquisition, wait and release, with its site, for its first
 * {@link DETAILED_ACQUISITIONS} acquisitions. After that nothing takes a stack (one costs 1.5–6 µs,
 * more than a whole contended job of a busy lock-and-queue program) and nothing is sent while all
 * goes well: an acquisition is only remembered (task, no site), and a wait of an async library is
 * held back in the agent ("quiet") and sent, with the holdings it waits behind, only once it has
 * lasted {@link QUIET_WAIT_MS} (checked by an unref'd timer) or when the loop drains or the thread
 * exits — the only waits a deadlock or a stall can be made of. When the waiting task holds
 * something (it could be part of a deadlock) its stack is taken unformatted (~2 µs, against
 * ~25 µs formatted) and read only then, so the deadlock has every line; a wait by a task that holds
 * nothing (most waits of a busy program: the queue in front of a lock) is sent without a site.
 * Waits that block the thread (futex) or that other threads share (Web Locks,
 * published with an id) are always sent at once with their stacks: no timer runs in a blocked
 * thread, and the hub must see shared locks in their real order.
 *
 * Memory: holdings and waiters live only while held or waiting; resources are keyed by the
 * library's object (WeakMap) and forgotten with it; line and name caches are bounded.
 */
import type { AgentEvent, SourceSite, StackFrames } from '../../protocol/agentEvents';
import type { LockMode, LockWaitEndedEvent, ResourceCreatedEvent, ResourceEvent, ResourceKind } from '../../protocol/resourceEvents';
import type { AgentContext } from '../context';
import type { PendingWaits } from '../pending';
import type { BuiltinMap } from '../builtins';
import type { TaskCell, Tasks } from './tasks';
import { captureUnformatted, framesOf } from '../stacks';
import { ProgramFrames } from './programFrames';
import { SourceNames } from './sourceNames';

export const DETAILED_ACQUISITIONS = 256;
/** An undetailed async wait is sent once it has lasted this long (between 1× and 2× of it). */
export const QUIET_WAIT_MS = 20;
/** Frames a quiet wait keeps (the adapter's, the library's, then the program's). */
const QUIET_STACK_FRAMES = 12;
/** Held-back waits kept before ended ones are dropped outside a check (when over half have ended). */
const QUIET_COMPACT_AT = 1024;

export interface Resource extends Pick<ResourceCreatedEvent, 'kind' | 'library' | 'name' | 'site' | 'capacity' | 'reentrant' | 'seenByUse'> {
  id: string;
  announced: boolean;
  acquisitions: number;
  holdings: Holding[];
  /** Waits not over yet (reported or quiet). */
  waiting: number;
  /** Waiters the hub has been told of (the others are quiet). */
  reportedWaiters: number;
  /** A mutex's current holder taken on the quick path (no Holding object yet): its task id. */
  quick?: string;
  quickTask?: TaskCell;
}

export interface Holding {
  resource: Resource;
  task: string;
  /** The holding task, whose count of holds this holding is in. */
  cell?: TaskCell;
  key?: string;
  permits?: number;
  mode?: LockMode;
  site?: SourceSite;
  ts: number;
  emitted: boolean;
  released: boolean;
  /** Taken by force (Web Locks `steal`). */
  steal: boolean;
}

export interface Waiter {
  resource: Resource;
  task: TaskCell;
  key?: string;
  permits?: number;
  mode?: LockMode;
  site?: SourceSite;
  timeoutMs?: number | null;
  pendingId: number;
  done: boolean;
  /** Sent to the hub (else held back in the agent: see the cost policy). */
  reported: boolean;
  /** When it began (a quiet wait: the start of the check period it began in, a lower bound). */
  since: number;
  /** The check period a quiet wait began in. */
  period: number;
  /** A quiet wait's stack, not yet formatted. */
  unformatted: { stack?: unknown } | undefined;
  /** In its task's count of waits (one that only a grant ends). */
  counted: boolean;
}

export interface ResourceInit {
  kind: ResourceKind;
  library: string;
  /** The creation stack (resource name from the creating line). */
  creation?: StackFrames;
  /** A site whose line names the resource by a call on it (`lock.acquireAsync()`). */
  useSite?: SourceSite;
  name?: string;
  id?: string;
  capacity?: number;
  reentrant?: boolean;
}

export class LockTracker {
  private nextResource = 0;
  private readonly kindCounts = new Map<string, number>();
  private readonly sourceNames: SourceNames;
  /** Which frames are the program's (never a library's): the sites of events. */
  private readonly frames = new ProgramFrames();
  /**
   * Waits held back, in the order they began; a wait that ends stays until the next check drops it
   * (a Set add and delete per wait cost more than the rest of a contended wait's bookkeeping).
   */
  private quietWaiters: Waiter[] = [];
  /** How many of quietWaiters have not ended. */
  private quietLive = 0;
  private quietTimer: { unref(): unknown } | undefined;
  private quietPeriod = 0;
  private quietPeriodStart = 0;

  constructor(
    readonly context: AgentContext,
    readonly tasks: Tasks,
    private readonly pending: PendingWaits,
    fs: BuiltinMap['fs'] | undefined,
    private readonly timers?: BuiltinMap['timers'],
  ) {
    this.sourceNames = new SourceNames(fs);
    tasks.isProgramFile = (file) => this.frames.isProgramFile(file);
    // Held-back waits are what a draining or exiting thread is stuck in: they go first.
    context.beforeDrain.add(() => this.reportQuietWaits(Infinity));
  }

  get prefix(): string {
    return `${this.context.identity.pid}:${this.context.identity.threadId}`;
  }

  emit(event: ResourceEvent): void {
    try {
      this.context.emit(event as unknown as AgentEvent);
    } catch {
      // never into the program
    }
  }

  /** The stack without the agent's and the tracked libraries' frames (shared and frozen: see ProgramFrames). */
  stack(): StackFrames {
    return this.frames.stack();
  }

  /** Remembers the directory of a tracked library: its frames are never a site. */
  addLibraryDir(dir: string): void {
    this.frames.addLibraryDir(dir);
  }

  /** Remembers the lines of a bundle that hold tracked libraries and their helpers: never a site either. */
  addLibraryLines(file: string, ranges: ReadonlyArray<{ from: number; to: number }>): void {
    this.frames.addLibraryLines(file, ranges);
  }

  /** The program's site on the current stack. */
  site(stack: StackFrames = this.stack()): SourceSite | undefined {
    return stack.find((frame) => !frame.file.startsWith('node:') && !frame.file.startsWith('internal/'));
  }

  createResource(init: ResourceInit): Resource {
    const creationSite = init.creation ? this.site(init.creation) : undefined;
    const resource: Resource = {
      id: init.id ?? `${this.prefix}:r${++this.nextResource}`,
      kind: init.kind,
      library: init.library,
      name: init.name ?? this.sourceNames.declaredAt(creationSite) ?? this.sourceNames.receiverAt(init.useSite) ?? this.defaultName(init.kind),
      announced: false,
      acquisitions: 0,
      holdings: [],
      waiting: 0,
      reportedWaiters: 0,
    };
    if (creationSite) resource.site = creationSite;
    else if (init.useSite) resource.site = init.useSite;
    if (!init.creation && init.id !== undefined) resource.seenByUse = true;
    if (init.capacity !== undefined) resource.capacity = init.capacity;
    if (init.reentrant !== undefined) resource.reentrant = init.reentrant;
    return resource;
  }

  announce(resource: Resource): void {
    if (resource.announced) return;
    resource.announced = true;
    const event: ResourceEvent = { type: 'resource-created', ts: this.context.now(), resourceId: resource.id, kind: resource.kind, library: resource.library, name: resource.name };
    if (resource.site) event.site = resource.site;
    if (resource.capacity !== undefined) event.capacity = resource.capacity;
    if (resource.reentrant !== undefined) event.reentrant = resource.reentrant;
    if (resource.seenByUse === true) event.seenByUse = true;
    this.emit(event);
  }

  /** Whether the next uncontended acquisition of `resource` is reported in detail (and wants a site). */
  detailed(resource: Resource): boolean {
    return resource.acquisitions < DETAILED_ACQUISITIONS;
  }

  /** Whether an acquisition of `resource` that will (`waiting`) or will not wait wants the caller's stack. */
  wantsStack(resource: Resource, waiting: boolean): boolean {
    return resource.acquisitions < DETAILED_ACQUISITIONS || (waiting && !this.mayWaitQuietly(resource));
  }

  /** Past the detailed budget, a wait of an async library may be held back (see the cost policy). */
  private mayWaitQuietly(resource: Resource): boolean {
    return resource.acquisitions >= DETAILED_ACQUISITIONS && this.timers !== undefined && resource.kind !== 'futex' && !isShared(resource);
  }

  /** An uncontended mutex grant past the detailed budget, with nobody waiting: nothing allocated. */
  quickHold(resource: Resource, task: TaskCell): void {
    resource.acquisitions++;
    resource.quick = task.id;
    resource.quickTask = task;
    task.holds = (task.holds ?? 0) + 1;
  }

  /** A quick hold ends (released while still quick). */
  quickReleased(resource: Resource): void {
    if (resource.quickTask !== undefined) resource.quickTask.holds = Math.max(0, (resource.quickTask.holds ?? 1) - 1);
    resource.quick = undefined;
    resource.quickTask = undefined;
  }

  /** True when the next grant of `resource` may take the quick path. */
  quiet(resource: Resource): boolean {
    return resource.acquisitions >= DETAILED_ACQUISITIONS && resource.waiting === 0 && resource.holdings.length === 0;
  }

  /** Turns a quick hold into a Holding (somebody is about to wait for it). */
  private materialize(resource: Resource): void {
    if (resource.quick === undefined) return;
    const holding = newHolding(resource, resource.quick, resource.quickTask, 0);
    resource.holdings.push(holding);
    resource.quick = undefined;
    resource.quickTask = undefined;
  }

  /**
   * A task starts waiting for `resource`. Without `stack`, a wait that may be held back is (quiet);
   * otherwise the stack is taken here when not given, and the wait is sent at once.
   */
  wait(resource: Resource, task: TaskCell, opts: { key?: string; permits?: number; mode?: LockMode; timeoutMs?: number | null; stack?: StackFrames }): Waiter {
    // An entered task about to wait for what it holds: a self-deadlock, or another flow that got the
    // task from its parent (tasks.ts, guard 3). The latter waits as a task of its own: adapters go on with waiter.task.
    if (task.entered !== undefined && resource.reentrant !== true && this.holds(resource, task) && !this.tasks.sameFlow(task)) task = this.tasks.enterNew(opts.stack);
    const quiet = opts.stack === undefined && this.mayWaitQuietly(resource);
    const stack = quiet ? undefined : (opts.stack ?? this.stack());
    const site = stack !== undefined ? (this.site(stack) ?? task.site) : undefined;
    if (site) task.site = site;
    // Counted when only a grant ends it: a flow may give up a wait with a timeout and go on (withTimeout).
    const counted = opts.timeoutMs === undefined || opts.timeoutMs === null;
    // Every field at once: one shape for all waiters keeps the code that reads them monomorphic.
    const waiter: Waiter = {
      resource,
      task,
      key: opts.key,
      permits: opts.permits,
      mode: opts.mode,
      site: site || undefined,
      timeoutMs: opts.timeoutMs,
      pendingId: 0,
      done: false,
      reported: false,
      since: 0,
      period: 0,
      // Only a task that holds something can be part of a deadlock: its quiet wait keeps its line.
      unformatted: quiet && (task.holds ?? 0) > 0 ? captureUnformatted(this.wait, QUIET_STACK_FRAMES) : undefined,
      counted,
    };
    resource.waiting++;
    if (counted) task.waits = (task.waits ?? 0) + 1;
    if (quiet) {
      this.holdBack(waiter);
      return waiter;
    }
    waiter.since = this.context.now();
    this.report(waiter, stack !== undefined && resource.acquisitions < DETAILED_ACQUISITIONS ? stack : undefined);
    return waiter;
  }

  /** Whether `task` holds `resource` now. */
  private holds(resource: Resource, task: TaskCell): boolean {
    if (resource.quickTask === task) return true;
    for (const holding of resource.holdings) if (holding.cell === task) return true;
    return false;
  }

  /** Sends a wait (with the holdings it waits behind) and lists it for the drain. */
  private report(waiter: Waiter, stack: StackFrames | undefined): void {
    const resource = waiter.resource;
    waiter.reported = true;
    if (waiter.unformatted !== undefined) {
      const site = this.site(this.frames.withoutLibraries(framesOf(waiter.unformatted)));
      if (site) waiter.site = site;
      waiter.unformatted = undefined;
    }
    resource.reportedWaiters++;
    this.announce(resource);
    this.materialize(resource);
    this.sendUnsentHoldings(resource);
    const event: ResourceEvent = { type: 'lock-wait', ts: waiter.since, resourceId: resource.id, taskId: waiter.task.id };
    if (waiter.mode !== undefined) event.mode = waiter.mode;
    if (waiter.key !== undefined) event.key = waiter.key;
    if (waiter.permits !== undefined) event.permits = waiter.permits;
    if (waiter.timeoutMs !== undefined) event.timeoutMs = waiter.timeoutMs;
    if (waiter.site) event.site = waiter.site;
    // The whole stack only while the resource is reported in detail (a busy program waits a lot).
    if (stack !== undefined && stack.length > 0) event.stack = stack.slice(0, 12);
    this.emit(event);
    this.flushIfShared(resource);
    try {
      const what = `${resource.library} ${resource.kind} "${resource.name}"${waiter.key !== undefined && waiter.key !== resource.name ? ` key ${waiter.key}` : ''}`;
      waiter.pendingId = this.pending.add({ kind: 'lock', description: `${what} (task ${waiter.task.id})`, site: waiter.site, since: waiter.since });
    } catch {
      // not listed at drain
    }
  }

  /** Keeps a wait in the agent until it has lasted (a check period has passed over it) or the loop drains. */
  private holdBack(waiter: Waiter): void {
    if (this.quietTimer === undefined) {
      try {
        this.startCheckPeriod();
      } catch {
        // no timer: the wait is sent now
        waiter.since = this.context.now();
        this.report(waiter, undefined);
        return;
      }
    }
    waiter.since = this.quietPeriodStart;
    waiter.period = this.quietPeriod;
    this.quietWaiters.push(waiter);
    this.quietLive++;
    // Ended waits are dropped by the next check; a loop that keeps the timer from running must not grow this.
    if (this.quietWaiters.length > QUIET_COMPACT_AT && this.quietWaiters.length > 2 * this.quietLive) this.quietWaiters = this.quietWaiters.filter((w) => !w.done);
  }

  private readonly checkQuietWaits = (): void => {
    this.quietTimer = undefined;
    try {
      // Waits begun before this period have lasted at least one whole period.
      this.reportQuietWaits(this.quietPeriod);
      this.quietPeriod++;
      if (this.quietWaiters.length > 0) this.startCheckPeriod();
    } catch {
      // never into the program
    }
  };

  /** A check period begins now; its end is checked by an unref'd timer (it keeps nothing alive). */
  private startCheckPeriod(): void {
    const timer = (this.timers as BuiltinMap['timers']).setTimeout(this.checkQuietWaits, QUIET_WAIT_MS);
    timer.unref();
    this.quietTimer = timer;
    this.quietPeriodStart = this.context.now();
  }

  /** Sends the held-back waits begun before check period `before` (Infinity: all of them). */
  private reportQuietWaits(before: number): void {
    const waiters = this.quietWaiters;
    const due: Waiter[] = [];
    const kept: Waiter[] = [];
    for (const waiter of waiters) {
      if (waiter.done) continue;
      if (waiter.period >= before) kept.push(waiter);
      else due.push(waiter);
    }
    // Ended waits are dropped here.
    this.quietWaiters = kept;
    this.quietLive = kept.length;
    for (const waiter of due) this.report(waiter, undefined);
  }

  waitEnded(waiter: Waiter, reason: LockWaitEndedEvent['reason']): void {
    if (waiter.done) return;
    const reported = waiter.reported;
    this.finishWait(waiter);
    if (!reported) return;
    this.emit({ type: 'lock-wait-ended', ts: this.context.now(), resourceId: waiter.resource.id, taskId: waiter.task.id, reason });
    this.flushIfShared(waiter.resource);
  }

  private finishWait(waiter: Waiter): void {
    waiter.done = true;
    if (waiter.counted === true) waiter.task.waits = Math.max(0, (waiter.task.waits ?? 1) - 1);
    waiter.resource.waiting--;
    if (waiter.reported) {
      waiter.resource.reportedWaiters--;
      this.pending.settle(waiter.pendingId);
    } else {
      this.quietLive--;
    }
  }

  /** A grant: after `waiter`, or at once (then `site` when the caller took one). Positional: on the hot path. */
  acquired(resource: Resource, task: TaskCell, waiter?: Waiter, site?: SourceSite, permits?: number, key?: string, mode?: LockMode, steal?: boolean): Holding {
    // The task that waited (wait() may have given the wait a task of its own).
    if (waiter !== undefined) task = waiter.task;
    resource.acquisitions++;
    // An uncontended hold past the detailed budget takes no clock reading (~45 ns): if it is ever
    // reported (somebody waits), it carries the time it was reported.
    const detailed = waiter?.reported === true || site !== undefined || resource.acquisitions <= DETAILED_ACQUISITIONS || resource.reportedWaiters > 0;
    const holding = newHolding(resource, task.id, task, detailed ? this.context.now() : 0, key, permits, mode, waiter?.site ?? site, steal === true);
    task.holds = (task.holds ?? 0) + 1;
    resource.holdings.push(holding);
    if (waiter !== undefined) this.finishWait(waiter);
    if (detailed) this.sendHolding(holding);
    return holding;
  }

  released(holding: Holding, releaser: TaskCell | undefined): void {
    if (holding.released) return;
    holding.released = true;
    if (holding.cell !== undefined) holding.cell.holds = Math.max(0, (holding.cell.holds ?? 1) - 1);
    const list = holding.resource.holdings;
    // Most often the only one: pop, which moves nothing (shift trims the array's start).
    if (list[list.length - 1] === holding) list.pop();
    else if (list[0] === holding) list.shift();
    else {
      const at = list.indexOf(holding);
      if (at >= 0) list.splice(at, 1);
    }
    if (!holding.emitted) return;
    const resource = holding.resource;
    const event: ResourceEvent = { type: 'lock-released', ts: this.context.now(), resourceId: resource.id, taskId: releaser?.id ?? holding.task };
    if (releaser !== undefined && releaser.id !== holding.task) {
      // A release by another task than the holder is a warning that needs its line (a rare path: the stack is worth it).
      event.holderTaskId = holding.task;
      const site = this.site();
      if (site) event.site = site;
    }
    if (holding.key !== undefined) event.key = holding.key;
    if (holding.permits !== undefined) event.permits = holding.permits;
    this.emit(event);
    this.flushIfShared(resource);
  }

  /**
   * Events of a lock other threads or processes share (Web Locks, published with an id) leave at
   * once, not with the next timed flush: the hub then sees them in their real order across threads
   * (the model trusts such cycles without waiting to hear from every thread), and before this
   * thread can drain and exit.
   */
  private flushIfShared(resource: Resource): void {
    if (isShared(resource)) this.context.channel.flush();
  }

  /** The holding a release ends when the library does not say which: the releasing task's own (oldest), else the oldest. */
  pickHolding(resource: Resource, releaser: TaskCell | undefined, key?: string): Holding | undefined {
    const list = resource.holdings;
    if (releaser !== undefined) for (const h of list) if (h.task === releaser.id && (key === undefined || h.key === key)) return h;
    for (const h of list) if (key === undefined || h.key === key) return h;
    return undefined;
  }

  private sendUnsentHoldings(resource: Resource): void {
    for (const holding of resource.holdings) if (!holding.emitted) this.sendHolding(holding);
  }

  private sendHolding(holding: Holding): void {
    this.announce(holding.resource);
    holding.emitted = true;
    const event: ResourceEvent = { type: 'lock-acquired', ts: holding.ts || this.context.now(), resourceId: holding.resource.id, taskId: holding.task };
    if (holding.mode !== undefined) event.mode = holding.mode;
    if (holding.key !== undefined) event.key = holding.key;
    if (holding.permits !== undefined) event.permits = holding.permits;
    if (holding.site) event.site = holding.site;
    if (holding.steal === true) event.steal = true;
    this.emit(event);
    this.flushIfShared(holding.resource);
  }

  private defaultName(kind: string): string {
    const n = (this.kindCounts.get(kind) ?? 0) + 1;
    this.kindCounts.set(kind, n);
    return `${kind} #${n}`;
  }

  /** The source line at `site`, when the file can be read. */
  sourceLine(site: SourceSite): string | undefined {
    return this.sourceNames.lineAt(site);
  }
}

/** A holding with every field set: one shape for all keeps the code that reads them monomorphic. */
function newHolding(resource: Resource, task: string, cell: TaskCell | undefined, ts: number, key?: string, permits?: number, mode?: LockMode, site?: SourceSite, steal = false): Holding {
  return { resource, task, cell, key, permits, mode, site: site || undefined, ts, emitted: false, released: false, steal };
}

/** A lock other threads or processes share (Web Locks, published with an id): its events leave at once. */
function isShared(resource: Resource): boolean {
  return resource.kind === 'web-lock' || resource.id.startsWith('published:');
}
