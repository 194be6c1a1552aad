import type { DrainEvent, PendingWait } from '../protocol/agentEvents';
import type { Finding, FindingKind, FindingParticipant, FindingSeverity } from '../protocol/report';
import type { ProcessModel, ThreadModel } from './processTree';
import { describeSite, stableHash, threadLabel } from './describe';

/**
 * A finding id that is the same for the same problem at the same places in every run: built from
 * the kind and the participants' roles and sites, never from pids or times.
 */
export function findingId(kind: FindingKind, participants: FindingParticipant[]): string {
  const parts = participants
    .map((p) => `${p.role}@${p.site ? `${p.site.file}:${p.site.line}` : p.detail.replace(/\d+/g, '#')}`)
    .sort();
  return `${kind}-${stableHash(`${kind}|${parts.join('|')}`)}`;
}

/** Makes a finding with its stable id. */
export function makeFinding(kind: FindingKind, severity: FindingSeverity, message: string, participants: FindingParticipant[], time: number): Finding {
  return { id: findingId(kind, participants), kind, severity, message, time, participants };
}

/** The stall that Node hides: a thread's event loop drained while awaited work was still pending. */
export function drainFinding(p: ProcessModel, t: ThreadModel, drain: DrainEvent, now: number, cwd?: string): Finding | undefined {
  const pending = drain.pending;
  const tla = pending.some((w) => w.kind === 'top-level-await') || (drain.exitCode === 13 && t.threadId === 0);
  if (pending.length === 0 && !tla) return undefined;
  const participants: FindingParticipant[] = pending.map((w) => pendingParticipant(p, t, w));
  if (tla && !pending.some((w) => w.kind === 'top-level-await')) {
    participants.push({ pid: p.pid, threadId: t.threadId, role: 'waits', detail: 'top-level await that never settles' });
  }
  const what = pending.length > 0 ? pending.map((w) => w.description + (w.site ? ` at ${describeSite(w.site, cwd)}` : '')).join('; ') : 'a top-level await';
  const ending = drain.exitCode === 13 ? 'Node exits with status 13 (unsettled top-level await)' : `Node exits with status ${drain.exitCode} as if all were well`;
  const message = `Stall: the event loop of ${threadLabel(p, t)} drained while it still awaited ${what} — nothing left can settle it, and ${ending}`;
  return makeFinding('stall', 'error', message, participants, now);
}

function pendingParticipant(p: ProcessModel, t: ThreadModel, w: PendingWait): FindingParticipant {
  return { pid: p.pid, threadId: t.threadId, role: 'waits', detail: `awaits ${w.description}`, site: w.site, stack: w.stack };
}

/**
 * Drain findings of threads that have exited. A thread may drain more than once before it exits
 * (`beforeExit`, then `exit` with the final status): only its last drain counts.
 */
export function drainFindingsOfExitedThreads(
  tree: { processes(): ProcessModel[] },
  done: Set<string>,
  now: number,
  cwd?: string,
  all = false,
  /** Waits already explained (by a deadlock finding) are not reported again. */
  explained: (pid: number, threadId: number, wait: PendingWait) => boolean = () => false,
): Finding[] {
  const found: Finding[] = [];
  for (const p of tree.processes()) {
    for (const t of p.threads.values()) {
      const key = `${p.pid}:${t.threadId}`;
      if (!t.drain || done.has(key) || (!all && t.status !== 'exited')) continue;
      done.add(key);
      const pending = t.drain.pending.filter((w) => !explained(p.pid, t.threadId, w));
      if (pending.length === 0 && t.drain.pending.length > 0 && t.drain.exitCode !== 13) continue;
      const finding = drainFinding(p, t, { ...t.drain, pending }, now, cwd);
      if (finding) found.push(finding);
    }
  }
  return found;
}
