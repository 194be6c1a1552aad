import type { ProcessModel, ProcessTree, ThreadModel, TreeChange } from '../model/processTree';
import { childrenOf } from '../model/processTree';
import { describeError, describeSite, threadLabel } from '../model/describe';
import type { ThreadResourceView } from '../model/resourceViews';

/** One thread's state in a few words: `idle (waits for worker 1)`, `blocked in Atomics.wait at a.js:3:5`. */
export function threadStateText(t: ThreadModel, cwd: string): string {
  switch (t.status) {
    case 'starting':
      return t.expectAgent ? 'starting' : 'running (untracked)';
    case 'exited':
      if (t.exitCode === null) return 'ended with its process';
      return t.error ? `exited ${t.exitCode} (${describeError(t.error)})` : `exited ${t.exitCode}`;
    case 'blocked': {
      const on = t.block?.on;
      const where = t.block?.site ? ` at ${describeSite(t.block.site, cwd)}` : '';
      if (!on) return 'blocked';
      return on.kind === 'atomics.wait'
        ? `blocked in Atomics.wait${on.timeoutMs === null ? '' : ` (${on.timeoutMs} ms)`}${where}`
        : `blocked in ${on.method}(${on.command})${where}`;
    }
    case 'running':
    case 'idle': {
      const s = t.lastSample;
      if (!s) return t.status;
      const waits = [...s.internal.map((w) => (w.kind === 'worker' ? `worker ${w.threadId}` : w.kind === 'child' ? `pid ${w.pid}` : w.kind === 'parent-ipc' ? 'parent IPC' : 'port')), ...s.external];
      const elu = t.status === 'running' ? ` elu ${s.elu.toFixed(2)}` : '';
      return `${t.status}${elu}${waits.length > 0 ? ` (waits on ${waits.join(', ')})` : ''}`;
    }
  }
}

/** One process's state in a few words. */
export function processStateText(p: ProcessModel): string {
  if (p.alive) return p.tooOld ? 'untracked (Node too old)' : '';
  if (p.stoppedByGridlock && p.signal) return stoppedText(p.signal, p.threads.get(0)?.exitCode);
  return p.signal ? `killed by ${p.signal}` : p.exitCode === null ? 'ended' : `exited ${p.exitCode}`;
}

/**
 * "stopped by gridlock (SIGKILL)", and ", as its main thread exited 0" for a process stopped while
 * it was ending by itself (its main thread has an exit code only when it exited by itself).
 */
export function stoppedText(signal: string, mainThreadExitCode: number | null | undefined): string {
  return `stopped by gridlock (${signal})${typeof mainThreadExitCode === 'number' ? `, as its main thread exited ${mainThreadExitCode}` : ''}`;
}

function processTitle(p: ProcessModel, cwd: string): string {
  // The program by its name (node, sh), its arguments relative to the working directory.
  const shown = p.argv.map((a, i) => (i === 0 && a.includes('/') ? a.slice(a.lastIndexOf('/') + 1) : a.startsWith(cwd + '/') ? a.slice(cwd.length + 1) : a));
  const argv = shown.length > 0 ? shown.join(' ') : '?';
  const origin = p.origin ? ` [${p.origin.method}${p.origin.site ? ` at ${describeSite(p.origin.site, cwd)}` : ''}]` : '';
  const state = processStateText(p);
  return `pid ${p.pid} ${truncate(argv, 60)}${origin}${state ? ` — ${state}` : ''}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Lines describing the locks, queues and pools a thread owns or uses. */
export type ResourceLines = (pid: number, threadId: number) => string[];

/** One resource under its thread: `mutex 'accounts' (async-mutex@0.5.0): held 1, 2 waiting`. */
export function resourceLine(r: ThreadResourceView): string {
  const parts: string[] = [];
  if (r.queue) {
    const q = r.queue;
    parts.push(`${q.size} queued, ${q.running}/${q.concurrency} running${q.paused ? ', paused' : ''}, ${q.completed} done`);
    if (q.oldestWaitMs > 0) parts.push(`oldest waits ${Math.round(q.oldestWaitMs)} ms`);
  } else {
    parts.push(r.holders > 0 ? `held${r.heldHere > 0 ? ' here' : ''}${r.holders > 1 ? ` ×${r.holders}` : ''}` : 'free');
    if (r.waiters > 0) parts.push(`${r.waiters} waiting${r.waitingHere > 0 ? ` (${r.waitingHere} here)` : ''}`);
  }
  return `${r.kind} '${r.name}' (${r.library}): ${parts.join(', ')}`;
}

/** The whole tree as indented lines: processes, their threads (nested workers) with their resources, child processes. */
export function renderTree(tree: ProcessTree, cwd: string, resourcesOf?: ResourceLines): string[] {
  const lines: string[] = [];
  const shown = new Set<number>();
  const roots = tree.processes().filter((p) => p.root || p.ppid === null || !tree.get(p.ppid));
  const visit = (p: ProcessModel, prefix: string, last: boolean, top: boolean): void => {
    if (shown.has(p.pid)) return;
    shown.add(p.pid);
    lines.push(`${top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${processTitle(p, cwd)}`);
    const inner = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    const threads = [...p.threads.values()];
    const children = childrenOf(tree, p.pid);
    const topThreads = threads.filter((t) => t.parentThreadId === null || !p.threads.has(t.parentThreadId) || t.threadId === 0);
    const items: Array<{ thread?: ThreadModel; child?: ProcessModel }> = [...topThreads.map((thread) => ({ thread })), ...children.map((child) => ({ child }))];
    items.forEach((item, i) => {
      const isLast = i === items.length - 1;
      if (item.thread) visitThread(p, item.thread, threads, inner, isLast);
      else if (item.child) visit(item.child, inner, isLast, false);
    });
  };
  const visitThread = (p: ProcessModel, t: ThreadModel, all: ThreadModel[], prefix: string, last: boolean): void => {
    const label = threadLabel(p, t, false) + (t.threadId !== 0 && t.script ? ` (${shortScript(t.script, cwd)})` : '');
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label}: ${threadStateText(t, cwd)}`);
    const kids = all.filter((k) => k.threadId !== 0 && k.parentThreadId === t.threadId && k.threadId !== t.threadId);
    const under = `${prefix}${last ? '   ' : '│  '}`;
    for (const r of resourcesOf?.(p.pid, t.threadId) ?? []) lines.push(`${under}${kids.length > 0 ? '│' : ' '}  ${r}`);
    kids.forEach((k, i) => visitThread(p, k, all, `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1));
  };
  for (const r of roots) visit(r, '', true, true);
  for (const p of tree.processes()) if (!shown.has(p.pid)) visit(p, '', true, true);
  return lines;
}

function shortScript(script: string, cwd: string): string {
  const s = script.startsWith('file://') ? decodeURIComponent(script.slice(7)) : script;
  return s.startsWith(cwd + '/') ? s.slice(cwd.length + 1) : s;
}

/** A plain log line for one change (non-TTY output), or undefined when not worth a line. */
export function changeLine(tree: ProcessTree, change: TreeChange, cwd: string): string | undefined {
  const p = tree.get(change.pid);
  if (!p) return undefined;
  if (change.threadId === undefined) {
    if (change.kind === 'process-started') return `started ${processTitle(p, cwd)}`;
    if (change.kind === 'note' && p.root && p.notes.length === 0) return `started ${processTitle(p, cwd)}`;
    if (change.kind === 'process-exited') return `pid ${p.pid} ${processStateText(p)}`;
    if (change.kind === 'note') return p.notes.length > 0 ? `pid ${p.pid}: ${p.notes[p.notes.length - 1]}` : undefined;
    return undefined;
  }
  const t = p.threads.get(change.threadId);
  if (!t) return undefined;
  const who = threadLabel(p, t);
  switch (change.kind) {
    case 'thread-started':
      return t.threadId === 0 ? undefined : `${who} started${t.createdSite ? ` at ${describeSite(t.createdSite, cwd)}` : ''}`;
    case 'thread-exited':
    case 'thread-state':
      return `${who}: ${threadStateText(t, cwd)}`;
    case 'note':
      return `${who}: ${p.notes[p.notes.length - 1] ?? ''}`;
    default:
      return undefined;
  }
}
