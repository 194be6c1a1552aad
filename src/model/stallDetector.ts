import type { BlockReason, InternalWait } from '../protocol/agentEvents';
import type { FindingParticipant } from '../protocol/report';
import type { ProcessModel, ProcessTree, ThreadModel } from './processTree';
import { childrenOf, isServiceProcess, liveThreads } from './processTree';
import { describeError, describeSite, threadLabel } from './describe';

/** Tuning of the stall rule. */
export interface StallOptions {
  /** How long every thread must have been asleep, and the tree without activity, before a stall is declared. */
  quietMs: number;
  /** A sample older than this no longer proves a thread idle (it may be spinning). */
  staleMs: number;
  /** Paths under this directory are shown relative to it in messages. */
  cwd?: string;
}

/** Default tuning: samples come every 100 ms, heartbeats every 500 ms. */
export const DEFAULT_STALL_OPTIONS: StallOptions = { quietMs: 400, staleMs: 1200 };

/** Why one thread or process can still make progress (the first reason found). */
export interface ProgressReason {
  pid: number;
  threadId?: number;
  reason: string;
}

/** The outcome of a stall check. */
export type StallCheck =
  | { stalled: false; because: ProgressReason }
  | { stalled: true; message: string; participants: FindingParticipant[] };

/**
 * Decides whether nothing in the process tree can make progress any more.
 *
 * A stall is declared only when every live thread of every live process is asleep for good:
 * - blocked in `Atomics.wait` with no timeout, or in a synchronous child call whose child is a
 *   tracked process of the tree (itself asleep); or
 * - idle with a fresh sample that shows no wake-ups and only in-tree wake sources (message ports,
 *   workers, IPC channels and pipes to tracked processes) — no timers, sockets, servers, file or
 *   DNS requests, or stdin, any of which lets the world outside wake it;
 * and this has held for `quietMs`, with no event showing activity anywhere in that time. A process
 * without the agent (not Node, or tracking lost) counts as able to progress unless it only waits on
 * its tracked children (a shell running node). Anything unknown counts as progress: a missed stall
 * is better than a false alarm.
 */
export function checkStall(tree: ProcessTree, now: number, options: StallOptions = DEFAULT_STALL_OPTIONS): StallCheck {
  const live = tree.processes().filter((p) => p.alive);
  if (live.length === 0) return progress({ pid: 0, reason: 'no live process' });
  if (now - tree.lastActivityAt < options.quietMs) return progress({ pid: 0, reason: 'recent activity' });
  let asleepThreads = 0;
  for (const p of live) {
    const why = processCanProgress(tree, p, now, options);
    if (why) return progress(why);
    asleepThreads += liveThreads(p).length;
  }
  if (asleepThreads === 0) return progress({ pid: 0, reason: 'no tracked thread' });
  return { stalled: true, ...describeStall(tree, live, options.cwd) };
}

function progress(because: ProgressReason): StallCheck {
  return { stalled: false, because };
}

function processCanProgress(tree: ProcessTree, p: ProcessModel, now: number, options: StallOptions): ProgressReason | undefined {
  if (!p.tracked || p.tooOld) {
    // A service of a live tracked parent that used no CPU for the stall window only waits for requests.
    const parent = p.ppid === null ? undefined : tree.get(p.ppid);
    if (isServiceProcess(p) && parent?.tracked && parent.alive && p.cpuGrewAt !== undefined && now - p.cpuGrewAt >= options.quietMs) return undefined;
    const liveChildren = childrenOf(tree, p.pid).filter((c) => c.alive);
    if (liveChildren.length > 0 && liveChildren.every((c) => c.tracked)) return undefined; // a shell or launcher waiting on node
    return { pid: p.pid, reason: p.node ? 'process without tracking' : 'process is not tracked (not Node)' };
  }
  const threads = liveThreads(p);
  if (threads.length === 0) return { pid: p.pid, reason: 'no live thread reported yet' };
  for (const t of threads) {
    const why = threadCanProgress(tree, t, now, options);
    if (why) return { pid: p.pid, threadId: t.threadId, reason: why };
  }
  return undefined;
}

function threadCanProgress(tree: ProcessTree, t: ThreadModel, now: number, options: StallOptions): string | undefined {
  if (!t.tracked) return t.expectAgent ? 'thread has not reported yet' : 'thread runs without the agent';
  if (t.status === 'blocked' && t.block) return blockCanEnd(tree, t, t.block.on);
  if (t.status !== 'idle' || !t.lastSample || t.lastSampleAt === undefined) return `thread is ${t.status}`;
  if (now - t.lastSampleAt > options.staleMs) return 'no recent sample (busy?)';
  if (t.lastSample.external.length > 0) return `waits on ${t.lastSample.external.join(', ')}`;
  if (t.quietSince === undefined || now - t.quietSince < options.quietMs) return 'recently woke up';
  for (const wait of t.lastSample.internal) {
    const why = internalWaitCanEnd(tree, t.pid, wait);
    if (why) return why;
  }
  return undefined;
}

function blockCanEnd(tree: ProcessTree, t: ThreadModel, on: BlockReason): string | undefined {
  if (on.kind === 'atomics.wait') return on.timeoutMs === null ? undefined : 'Atomics.wait has a timeout';
  // A synchronous child call ends when the child does: asleep only if a tracked child of this process is.
  const children = childrenOf(tree, t.pid).filter((c) => c.alive);
  if (children.length > 0 && children.every((c) => c.tracked)) return undefined;
  return `runs ${on.method} ${on.command}`;
}

function internalWaitCanEnd(tree: ProcessTree, pid: number, wait: InternalWait): string | undefined {
  if (wait.kind === 'child') {
    const child = tree.get(wait.pid);
    if (child && child.alive && !child.tracked) {
      const grandchildren = childrenOf(tree, child.pid).filter((c) => c.alive);
      if (grandchildren.length === 0 || !grandchildren.every((c) => c.tracked)) return `waits on untracked child ${wait.pid}`;
    }
  }
  if (wait.kind === 'parent-ipc') {
    const parent = tree.get(wait.ppid);
    if (!parent) return `waits on IPC from untracked parent ${wait.ppid}`;
  }
  void pid;
  return undefined;
}

function describeStall(tree: ProcessTree, live: ProcessModel[], cwd: string | undefined): { message: string; participants: FindingParticipant[] } {
  const participants: FindingParticipant[] = [];
  const tracked = live.filter((p) => p.tracked);
  const withPid = tracked.length > 1;
  // Threads blocked at the same place are named together; idle ones are summed up.
  const blockedAt = new Map<string, string[]>();
  const idle: string[] = [];
  const exited: string[] = [];
  for (const p of tracked) {
    for (const t of liveThreads(p)) {
      const participant = describeAsleepThread(tree, p, t);
      participants.push(participant);
      const label = threadLabel(p, t, withPid);
      if (participant.role === 'blocked') {
        const how = t.block?.on.kind === 'atomics.wait' ? 'Atomics.wait' : t.block?.on.kind === 'sync-child' ? t.block.on.method : 'a blocking call';
        const key = `${how}${participant.site ? ` at ${describeSite(participant.site, cwd)}` : ''}`;
        blockedAt.set(key, [...(blockedAt.get(key) ?? []), label]);
      } else {
        idle.push(label);
      }
    }
    // Threads that exited are the usual reason a waiter can never be woken: name them.
    const waitsOnFutex = liveThreads(p).some((t) => t.block?.on.kind === 'atomics.wait');
    for (const t of p.threads.values()) {
      if (t.status !== 'exited' || t.threadId === 0) continue;
      if (!waitsOnFutex && !t.error) continue;
      const detail = t.error ? `exited with ${describeError(t.error)}` : `exited with code ${t.exitCode ?? '?'}`;
      participants.push({ pid: p.pid, threadId: t.threadId, role: 'exited', detail, site: t.error?.stack?.[0] ?? t.createdSite, stack: t.error?.stack });
      exited.push(`${threadLabel(p, t, withPid)} ${detail}${waitsOnFutex ? ', so it can no longer notify' : ''}`);
    }
  }
  const phrases: string[] = [];
  for (const [where, labels] of blockedAt) phrases.push(`${joinNames(labels)} ${labels.length === 1 ? 'waits' : 'wait'} in ${where}`);
  if (idle.length > 0) phrases.push(`${joinNames(idle)} ${idle.length === 1 ? 'is' : 'are'} idle, waiting only on threads and processes of the tree`);
  phrases.push(...exited);
  const scope = tracked.length > 1 ? `all threads of ${tracked.length} processes are asleep` : 'all threads are asleep';
  return { message: `Stall: ${scope} — ${phrases.join('; ')}`, participants };
}

function joinNames(names: string[]): string {
  if (names.length <= 3) return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
}

function describeAsleepThread(tree: ProcessTree, p: ProcessModel, t: ThreadModel): FindingParticipant {
  if (t.block) {
    const on = t.block.on;
    const detail = on.kind === 'atomics.wait' ? `waits in Atomics.wait on ${describeFutex(on)}` : `waits for ${on.method}(${on.command})`;
    return { pid: p.pid, threadId: t.threadId, role: 'blocked', detail, site: t.block.site, stack: t.block.stack };
  }
  const waits = t.lastSample?.internal ?? [];
  const detail = waits.length === 0 ? 'is idle with nothing to wake it' : `is idle, waiting for ${waits.map((w) => describeInternalWait(tree, p, w)).join(', ')}`;
  return { pid: p.pid, threadId: t.threadId, role: 'idle', detail };
}

function describeFutex(on: Extract<BlockReason, { kind: 'atomics.wait' }>): string {
  const label = on.buffer.label ? ` '${on.buffer.label}'` : '';
  return `index ${on.index} (byte ${on.byteOffset}) of SharedArrayBuffer${label} (${on.buffer.byteLength} bytes), expecting the value ${on.value}`;
}

function describeInternalWait(tree: ProcessTree, p: ProcessModel, wait: InternalWait): string {
  switch (wait.kind) {
    case 'port':
      return wait.description || 'a message port';
    case 'worker': {
      const w = p.threads.get(wait.threadId);
      return w ? threadLabel(p, w, false) : `worker ${wait.threadId}`;
    }
    case 'child': {
      const c = tree.get(wait.pid);
      const what = wait.ipc ? 'an IPC message from' : 'child';
      return `${what} pid ${wait.pid}${c && c.argv.length > 0 ? ` (${c.argv.slice(-1)[0]})` : ''}`;
    }
    case 'parent-ipc':
      return `an IPC message from its parent pid ${wait.ppid}`;
  }
}
