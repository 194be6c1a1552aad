import type {
  AgentEvent,
  BlockEvent,
  DrainEvent,
  ErrorInfo,
  HelloEvent,
  SampleEvent,
  SourceSite,
  SpawnMethod,
} from '../protocol/agentEvents';
import type { HubLine } from '../protocol/hubWire';
import type { ResourceEvent } from '../protocol/resourceEvents';

/** What the host knows of a thread right now. */
export type ThreadStatus = 'starting' | 'running' | 'idle' | 'blocked' | 'exited';

/** A thread (main or worker) of a tracked process. */
export interface ThreadModel {
  pid: number;
  threadId: number;
  /** The thread that created it (null for main threads and for workers found by attach). */
  parentThreadId: number | null;
  name: string;
  script: string;
  /** True once the thread's own agent said hello. */
  tracked: boolean;
  /** False when the creating thread knew the worker would run without the agent. */
  expectAgent: boolean;
  status: ThreadStatus;
  /** Host time of the last event from this thread itself. */
  lastHeardAt: number;
  lastSample?: SampleEvent;
  /** Host time of the last sample. */
  lastSampleAt?: number;
  /** Host time since when the thread has been idle with only in-tree wake sources and no wake-ups. */
  quietSince?: number;
  block?: BlockEvent;
  createdAt: number;
  createdSite?: SourceSite;
  exitCode: number | null;
  error?: ErrorInfo;
  drain?: DrainEvent;
}

/** How a process came to be, as its parent saw it. */
export interface ProcessOrigin {
  method: SpawnMethod;
  site?: SourceSite;
  file: string;
  args: string[];
  byThreadId: number;
}

/** A process of the tree: a tracked Node process, or an opaque one (not Node, or without the agent). */
export interface ProcessModel {
  pid: number;
  ppid: number | null;
  argv: string[];
  /** True once its agent said hello. */
  tracked: boolean;
  /** True when it is known to run Node (it said hello). */
  node: boolean;
  nodeVersion?: string;
  inspectorUrl?: string;
  tooOld: boolean;
  /** True for the command gridlock started. */
  root: boolean;
  origin?: ProcessOrigin;
  alive: boolean;
  exitCode: number | null;
  signal: string | null;
  /** True when gridlock itself stopped it (after a hang finding): its signal is gridlock's, not the program's. */
  stoppedByGridlock: boolean;
  startedAt: number;
  endedAt?: number;
  threads: Map<number, ThreadModel>;
  notes: string[];
  /** Untracked service processes: CPU time (clock ticks) at the host's last reading, and when it last grew. */
  cpuTicks?: number;
  cpuGrewAt?: number;
}

/**
 * A helper process that only ever answers requests of the thread that started it: esbuild's
 * service (`esbuild --service=<version> --ping`, kept by esbuild's JS API and so by tsx). It pings
 * that thread every second; the pings are not progress of the program.
 */
export function isServiceProcess(p: ProcessModel): boolean {
  const file = p.origin?.file ?? p.argv[0] ?? '';
  const args = p.origin?.args ?? p.argv.slice(1);
  return /(^|\/)esbuild(\.exe)?$/.test(file) && args.some((a) => a.startsWith('--service='));
}

/** A change worth showing, for the live view and the plain event log. */
export interface TreeChange {
  kind: 'process-started' | 'process-exited' | 'thread-started' | 'thread-state' | 'thread-exited' | 'note';
  pid: number;
  threadId?: number;
}

/** Lines whose sequence numbers skipped ahead, per thread: events were lost. */
export interface LostLines {
  pid: number;
  threadId: number;
  count: number;
}

/**
 * The live tree of processes and threads, built from agent events. Pure: the host feeds it lines
 * and process exits with its own clock, and reads it back.
 */
export class ProcessTree {
  private readonly byPid = new Map<number, ProcessModel>();
  private readonly nextSeq = new Map<string, number>();
  /** Host time of the last change that shows progress (not a heartbeat). */
  lastActivityAt = 0;
  lostLines = 0;
  droppedEvents = 0;

  /** All processes, in order of appearance. */
  processes(): ProcessModel[] {
    return [...this.byPid.values()];
  }

  get(pid: number): ProcessModel | undefined {
    return this.byPid.get(pid);
  }

  /** The process gridlock started. */
  root(): ProcessModel | undefined {
    for (const p of this.byPid.values()) if (p.root) return p;
    return undefined;
  }

  /** Records the command gridlock itself started (or attached to). */
  addRoot(pid: number, argv: string[], now: number): TreeChange[] {
    const p = this.ensureProcess(pid, now);
    p.root = true;
    p.argv = argv;
    this.lastActivityAt = now;
    // Shown once its agent says hello (or when it turns out not to be Node and exits).
    return [];
  }

  /** Applies one hub line; returns what changed. */
  applyLine(line: HubLine, now: number): TreeChange[] {
    const key = `${line.p}:${line.t}`;
    const expected = this.nextSeq.get(key);
    if (expected !== undefined && line.s > expected) this.lostLines += line.s - expected;
    this.nextSeq.set(key, line.s + 1);
    const changes: TreeChange[] = [];
    for (const event of line.e) changes.push(...this.applyEvent(line.p, line.t, event, now));
    return changes;
  }

  /** Applies one agent event from thread `threadId` of process `pid` (resource events are not the tree's). */
  applyEvent(pid: number, threadId: number, event: AgentEvent | ResourceEvent, now: number): TreeChange[] {
    if (!isThreadEvent(event)) return [];
    const process = this.ensureProcess(pid, now);
    if (event.type === 'hello') return this.applyHello(process, event, now);
    const thread = this.ensureThread(process, threadId, now);
    thread.lastHeardAt = now;
    switch (event.type) {
      case 'sample':
        return this.applySample(thread, event, now);
      case 'block':
        thread.block = event;
        thread.status = 'blocked';
        thread.quietSince = undefined;
        this.lastActivityAt = now;
        return [{ kind: 'thread-state', pid, threadId }];
      case 'unblock': {
        const child = event.child;
        const on = thread.block?.on;
        if (child && on?.kind === 'sync-child') {
          // A synchronous child is only known once it returned; its own children (the node behind
          // execSync's shell) said hello with it as parent meanwhile and now hang under it.
          const c = this.ensureProcess(child.pid, now);
          c.ppid = pid;
          c.origin = { method: on.method, site: thread.block?.site, file: on.command, args: [], byThreadId: threadId };
          if (c.argv.length === 0) c.argv = [on.command];
          this.exitProcess(child.pid, child.exitCode, child.signal, now);
        }
        thread.block = undefined;
        thread.status = 'running';
        this.lastActivityAt = now;
        return [{ kind: 'thread-state', pid, threadId }];
      }
      case 'worker-created': {
        const worker = this.ensureThread(process, event.threadId, now);
        worker.parentThreadId = threadId;
        worker.name = event.name || worker.name;
        worker.script = event.script || worker.script;
        worker.createdSite = event.site;
        worker.expectAgent = event.tracked;
        this.lastActivityAt = now;
        return [{ kind: 'thread-started', pid, threadId: event.threadId }];
      }
      case 'worker-exited': {
        const worker = this.ensureThread(process, event.threadId, now);
        this.exitThread(worker, event.exitCode, event.error, now);
        return [{ kind: 'thread-exited', pid, threadId: event.threadId }];
      }
      case 'exit':
        this.exitThread(thread, event.exitCode, event.error, now);
        return [{ kind: 'thread-exited', pid, threadId }];
      case 'child-spawned': {
        const child = this.ensureProcess(event.pid, now);
        child.ppid = pid;
        child.origin = { method: event.method, site: event.site, file: event.file, args: event.args, byThreadId: threadId };
        if (child.argv.length === 0) child.argv = [event.file, ...event.args];
        this.lastActivityAt = now;
        return [{ kind: 'process-started', pid: event.pid }];
      }
      case 'child-failed':
        process.notes.push(`${event.method} ${event.file} failed: ${event.error.message}`);
        this.lastActivityAt = now;
        return [{ kind: 'note', pid, threadId }];
      case 'child-exited':
        return this.exitProcess(event.pid, event.exitCode, event.signal, now);
      case 'drain':
        thread.drain = event;
        this.lastActivityAt = now;
        return [{ kind: 'thread-state', pid, threadId }];
      case 'dropped':
        this.droppedEvents += event.count;
        return [];
    }
  }

  /**
   * Records a process the host found between two known ones (a shell run by execSync or by an npm
   * script): `pid` is the parent of a known process, and `ppid` its own parent.
   */
  addIntermediate(pid: number, ppid: number, argv: string[], now: number): TreeChange[] {
    const p = this.ensureProcess(pid, now);
    if (p.ppid === null) p.ppid = ppid;
    if (p.argv.length === 0) p.argv = argv;
    // A known parent blocked in a synchronous child call started it there.
    const parent = this.byPid.get(ppid);
    const caller = parent ? [...parent.threads.values()].find((t) => t.block?.on.kind === 'sync-child') : undefined;
    if (!p.origin && caller?.block && caller.block.on.kind === 'sync-child') {
      p.origin = { method: caller.block.on.method, site: caller.block.site, file: caller.block.on.command, args: [], byThreadId: caller.threadId };
    }
    return [{ kind: 'process-started', pid }];
  }

  /** Records that gridlock is stopping a process (it then ends of gridlock's signal). */
  markStoppedByGridlock(pid: number): void {
    const p = this.byPid.get(pid);
    if (p) p.stoppedByGridlock = true;
  }

  /** Records a process exit seen by the host (the root's exit, or a pid found gone). */
  exitProcess(pid: number, exitCode: number | null, signal: string | null, now: number): TreeChange[] {
    const p = this.ensureProcess(pid, now);
    if (!p.alive) {
      // A second report (parent agent and host both saw it) may add what the first lacked.
      if (p.exitCode === null && exitCode !== null) p.exitCode = exitCode;
      if (p.signal === null && signal !== null) p.signal = signal;
      return [];
    }
    p.alive = false;
    // Found gone by the host: a process's exit code is its main thread's.
    p.exitCode = exitCode ?? (signal === null ? (p.threads.get(0)?.exitCode ?? null) : null);
    p.signal = signal;
    p.endedAt = now;
    for (const t of p.threads.values()) if (t.status !== 'exited') this.exitThread(t, t.exitCode ?? exitCode, undefined, now, false);
    this.lastActivityAt = now;
    return [{ kind: 'process-exited', pid }];
  }

  private applyHello(process: ProcessModel, event: HelloEvent, now: number): TreeChange[] {
    const changes: TreeChange[] = [];
    const wasKnown = process.tracked || process.origin !== undefined || process.root;
    if (event.isMainThread) {
      process.tracked = true;
      process.node = true;
      process.nodeVersion = event.nodeVersion;
      process.tooOld = event.tooOld === true;
      if (event.inspectorUrl) process.inspectorUrl = event.inspectorUrl;
      if (process.ppid === null || !this.byPid.has(process.ppid)) process.ppid = event.ppid;
      process.argv = event.argv.length > 0 ? event.argv : process.argv;
      for (const note of event.notes ?? []) if (!process.notes.includes(note)) process.notes.push(note);
      // A root or a child its parent announced is shown then; say it again only with what hello adds.
      changes.push({ kind: wasKnown ? 'note' : 'process-started', pid: event.pid });
    }
    const known = process.threads.has(event.threadId);
    const thread = this.ensureThread(process, event.threadId, now);
    // A worker its parent announced was shown then; the main thread is shown with its process.
    const isNew = !known && !event.isMainThread;
    thread.tracked = true;
    thread.lastHeardAt = now;
    thread.name = event.name;
    thread.script = event.script;
    if (thread.status === 'starting') thread.status = 'running';
    if (isNew) changes.push({ kind: 'thread-started', pid: event.pid, threadId: event.threadId });
    this.lastActivityAt = now;
    return changes;
  }

  private applySample(thread: ThreadModel, event: SampleEvent, now: number): TreeChange[] {
    const before = thread.status;
    const previous = thread.lastSample;
    thread.lastSample = event;
    thread.lastSampleAt = now;
    if (thread.status === 'blocked' || thread.status === 'exited') return [];
    // A thread whose only wake-ups are its service child's pings, doing no work, is idle.
    const servicePing = event.state === 'running' && event.elu <= 0.05 && event.external.length === 0 && this.hasLiveServiceChild(thread);
    thread.status = servicePing ? 'idle' : event.state;
    const quiet = ((event.state === 'idle' && event.wakeups === 0) || servicePing) && event.external.length === 0;
    if (!quiet) {
      thread.quietSince = undefined;
      this.lastActivityAt = now;
    } else if (thread.quietSince === undefined) {
      thread.quietSince = now;
    }
    const changed =
      before !== thread.status ||
      previous === undefined ||
      previous.external.join() !== event.external.join() ||
      previous.internal.length !== event.internal.length;
    return changed ? [{ kind: 'thread-state', pid: thread.pid, threadId: thread.threadId }] : [];
  }

  private hasLiveServiceChild(thread: ThreadModel): boolean {
    for (const p of this.byPid.values()) if (p.alive && p.ppid === thread.pid && p.origin?.byThreadId === thread.threadId && !p.tracked && isServiceProcess(p)) return true;
    return false;
  }

  /**
   * The host read an untracked service process's CPU time (every 100 ms): more than one clock tick
   * (10 ms) since the last reading means it is working, which is activity. The first reading
   * counts as recent work (nothing is known yet).
   */
  noteCpu(pid: number, ticks: number, now: number): void {
    const p = this.byPid.get(pid);
    if (!p || !p.alive) return;
    const before = p.cpuTicks;
    p.cpuTicks = ticks;
    if (before !== undefined && ticks - before <= 1) return;
    p.cpuGrewAt = now;
    if (before !== undefined) this.lastActivityAt = now;
  }

  private exitThread(thread: ThreadModel, exitCode: number | null, error: ErrorInfo | undefined, now: number, activity = true): void {
    if (thread.status === 'exited') {
      if (error && !thread.error) thread.error = error;
      return;
    }
    thread.status = 'exited';
    thread.exitCode = exitCode;
    if (error) thread.error = error;
    thread.block = undefined;
    thread.quietSince = undefined;
    if (activity) this.lastActivityAt = now;
  }

  private ensureProcess(pid: number, now: number): ProcessModel {
    let p = this.byPid.get(pid);
    if (!p) {
      p = {
        pid,
        ppid: null,
        argv: [],
        tracked: false,
        node: false,
        tooOld: false,
        root: false,
        alive: true,
        exitCode: null,
        signal: null,
        stoppedByGridlock: false,
        startedAt: now,
        threads: new Map(),
        notes: [],
      };
      this.byPid.set(pid, p);
    }
    return p;
  }

  private ensureThread(process: ProcessModel, threadId: number, now: number): ThreadModel {
    let t = process.threads.get(threadId);
    if (!t) {
      t = {
        pid: process.pid,
        threadId,
        parentThreadId: null,
        name: threadId === 0 ? 'main' : `worker ${threadId}`,
        script: '',
        tracked: false,
        expectAgent: true,
        status: process.alive ? 'starting' : 'exited',
        lastHeardAt: now,
        createdAt: now,
        exitCode: null,
      };
      process.threads.set(threadId, t);
    }
    return t;
  }
}

/** Live threads of a process (not exited). */
export function liveThreads(process: ProcessModel): ThreadModel[] {
  return [...process.threads.values()].filter((t) => t.status !== 'exited');
}

/** Children of a process in the tree, in order of appearance. */
export function childrenOf(tree: ProcessTree, pid: number): ProcessModel[] {
  return tree.processes().filter((p) => p.ppid === pid && p.pid !== pid);
}

const THREAD_EVENT_TYPES = new Set<string>(['hello', 'sample', 'block', 'unblock', 'worker-created', 'worker-exited', 'exit', 'child-spawned', 'child-failed', 'child-exited', 'drain', 'dropped']);

/** Whether an event is about threads and processes (the tree's), not locks, queues or pools. */
export function isThreadEvent(event: AgentEvent | ResourceEvent): event is AgentEvent {
  return THREAD_EVENT_TYPES.has(event.type);
}
