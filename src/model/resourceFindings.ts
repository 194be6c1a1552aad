import type { SourceSite } from '../protocol/agentEvents';
import type { LockReleasedEvent } from '../protocol/resourceEvents';
import type { Finding, FindingParticipant } from '../protocol/report';
import type { DeadlockWorld } from './deadlockSearch';
import type { Inversion } from './lockOrder';
import type { Starvation } from './poolStarvation';
import type { ProcessTree } from './processTree';
import type { HoldState, ResourceState, TaskState, WaitState } from './resourceState';
import { judgeTask } from './deadlockSearch';
import { describeSite, threadLabel } from './describe';
import { makeFinding } from './findings';
import { capacityOf, hasTimeout, judgeWait } from './resourceState';

/** Cycle members listed in a deadlock message; the rest are counted. */
const MAX_LISTED = 6;
/** Cycle members given as participants. */
export const MAX_CYCLE_MEMBERS = 50;
/** Bystanders (tasks waiting behind a cycle) given as participants. */
export const MAX_BYSTANDERS = 20;

/** Words for threads, tasks, resources and sites. */
export class Namer {
  constructor(
    private readonly cwd?: string,
    private readonly tree?: ProcessTree,
  ) {}

  site(site: SourceSite | undefined): string {
    return site ? describeSite(site, this.cwd) : 'an unknown place';
  }

  thread(pid: number, threadId: number): string {
    const t = this.tree?.get(pid)?.threads.get(threadId);
    const p = this.tree?.get(pid);
    if (p && t) return threadLabel(p, t);
    return `${threadId === 0 ? 'main thread' : `worker ${threadId}`} of pid ${pid}`;
  }

  /** `task t3 of main thread of pid 5 (transfer at bank.js:12:5)`; a thread task is the thread. */
  task(id: string, pid: number, threadId: number, site?: SourceSite): string {
    const who = id.startsWith('thread:') ? this.thread(pid, threadId) : `task ${id.slice(id.lastIndexOf(':') + 1)} of ${this.thread(pid, threadId)}`;
    if (!site) return who;
    return `${who} (${site.functionName ? `${site.functionName} at ` : 'at '}${this.site(site)})`;
  }

  resource(r: ResourceState | undefined, id: string): string {
    return `'${r ? r.name : id}'`;
  }
}

/** What the builders read from the graph. */
export type FindingWorld = DeadlockWorld;

/** A deadlock: the tasks of one cycle, each with what it holds (and where it took it) and what it waits for. */
export function deadlockFinding(world: FindingWorld, namer: Namer, cycle: string[], bystanders: string[], now: number): Finding {
  const members = new Set(cycle);
  const isMember = (id: string): boolean => members.has(id);
  // The holds that matter: those another member waits for.
  const relevant = new Map<string, Set<string>>();
  for (const id of cycle) {
    const t = world.task(id) as TaskState;
    const waited = t.wait?.resourceId;
    for (const b of judgeTask(world, t, isMember).blockers) {
      const holder = world.task(b);
      if (waited === undefined || !holder?.holds.has(waited)) continue;
      let set = relevant.get(b);
      if (!set) relevant.set(b, (set = new Set()));
      set.add(waited);
    }
  }
  const participants: FindingParticipant[] = [];
  const phrases: string[] = [];
  for (const id of cycle.slice(0, MAX_CYCLE_MEMBERS)) {
    const t = world.task(id) as TaskState;
    const holds = [...(relevant.get(id) ?? [])].map((rid) => t.holds.get(rid) as HoldState);
    const holdNames = holds.map((h) => namer.resource(world.resource(h.resourceId), h.resourceId));
    for (const h of holds) participants.push(holdParticipant(h, `holds ${namer.resource(world.resource(h.resourceId), h.resourceId)}, taken at ${namer.site(h.site)}`));
    const label = namer.task(id, t.pid, t.threadId, t.wait?.site ?? holds[0]?.site);
    const holding = holdNames.length > 0 ? `holds ${holdNames.join(', ')} and ` : '';
    const freezer = world.freezer(t);
    if (t.wait && ownWaitBlocked(world, t.wait, isMember)) {
      const waited = namer.resource(world.resource(t.wait.resourceId), t.wait.resourceId);
      participants.push(waitParticipant(t.wait, `waits for ${waited}${t.wait.mode === 'shared' ? ' (shared)' : ''} at ${namer.site(t.wait.site)}`));
      phrases.push(`${label} ${holding}waits for ${waited}`);
    } else if (freezer?.wait) {
      const waited = namer.resource(world.resource(freezer.wait.resourceId), freezer.wait.resourceId);
      participants.push(waitParticipant({ ...freezer.wait, taskId: id, pid: t.pid, threadId: t.threadId }, `cannot run: its thread waits for ${waited} at ${namer.site(freezer.wait.site)}`));
      phrases.push(`${label} ${holdNames.length > 0 ? `holds ${holdNames.join(', ')} but ` : ''}cannot run while its thread waits for ${waited}`);
    }
  }
  const more = cycle.length > MAX_LISTED ? `; and ${cycle.length - MAX_LISTED} more tasks` : '';
  const behind = bystanders.length > 0 ? ` (${bystanders.length} more task${bystanders.length === 1 ? '' : 's'} wait behind them)` : '';
  const message = `Deadlock: ${phrases.slice(0, MAX_LISTED).join('; ')}${more}${behind}`;
  const finding = makeFinding('deadlock', 'error', message, participants, now);
  // Bystanders come after the id is made: who else queues behind a cycle does not change the problem.
  for (const id of bystanders.slice(0, MAX_BYSTANDERS)) {
    const t = world.task(id);
    if (!t?.wait) continue;
    const waited = namer.resource(world.resource(t.wait.resourceId), t.wait.resourceId);
    participants.push(waitParticipant(t.wait, `bystander: waits for ${waited}, which the deadlocked tasks keep`));
  }
  return finding;
}

/** True when the task's own wait (not its frozen thread) keeps it in the cycle. */
function ownWaitBlocked(world: FindingWorld, w: WaitState, isMember: (id: string) => boolean): boolean {
  const r = world.resource(w.resourceId);
  return !hasTimeout(w) && r !== undefined && !judgeWait(r, w, isMember).proceed;
}

/** A task waits for a non-reentrant resource it holds. */
export function selfDeadlockFinding(namer: Namer, r: ResourceState, t: TaskState, hold: HoldState, wait: WaitState, now: number): Finding {
  const label = namer.task(t.id, t.pid, t.threadId, wait.site);
  const name = namer.resource(r, r.id);
  const why =
    r.kind === 'semaphore'
      ? `it holds ${hold.permits} of its ${capacityOf(r)} permits and asks for ${wait.permits} more`
      : hold.mode === 'shared' && wait.mode === 'exclusive'
        ? 'it holds it shared and asks for it exclusive (an upgrade that can never be granted)'
        : `${r.library} ${r.kind} is not reentrant`;
  const participants = [
    holdParticipant(hold, `holds ${name}, taken at ${namer.site(hold.site)}`),
    waitParticipant(wait, `waits for ${name} again at ${namer.site(wait.site)}`),
  ];
  const message = `Self-deadlock: ${label} waits for ${name}, which it already holds (taken at ${namer.site(hold.site)}) — ${why}`;
  return { ...makeFinding('self-deadlock', 'error', message, participants, now), since: wait.since };
}

/** Two opposite lock orders. */
export function inversionFinding(namer: Namer, a: ResourceState | undefined, b: ResourceState | undefined, inv: Inversion, now: number): Finding {
  const { forward: f, reverse: r } = inv;
  const nameA = namer.resource(a, f.from);
  const nameB = namer.resource(b, f.to);
  const participants: FindingParticipant[] = [
    { pid: f.pid, threadId: f.threadId, task: f.taskId, resource: f.from, role: 'holds', detail: `holds ${nameA}, taken at ${namer.site(f.fromSite)}`, site: f.fromSite, stack: f.fromStack },
    { pid: f.pid, threadId: f.threadId, task: f.taskId, resource: f.to, role: 'waits', detail: `then takes ${nameB} while holding ${nameA}`, site: f.toSite, stack: f.toStack },
    { pid: r.pid, threadId: r.threadId, task: r.taskId, resource: r.from, role: 'holds', detail: `holds ${nameB}, taken at ${namer.site(r.fromSite)}`, site: r.fromSite, stack: r.fromStack },
    { pid: r.pid, threadId: r.threadId, task: r.taskId, resource: r.to, role: 'waits', detail: `then takes ${nameA} while holding ${nameB}`, site: r.toSite, stack: r.toStack },
  ];
  const message =
    `Lock-order inversion: ${nameA} then ${nameB} at ${namer.site(f.toSite)} (${namer.task(f.taskId, f.pid, f.threadId)}), ` +
    `but ${nameB} then ${nameA} at ${namer.site(r.toSite)} (${namer.task(r.taskId, r.pid, r.threadId)}) — two tasks running these at once can deadlock`;
  return makeFinding('lock-order-inversion', 'warning', message, participants, now);
}

/** A pool whose slots are all taken by items that wait for work queued behind them. */
export function starvationFinding(namer: Namer, r: ResourceState, s: Starvation, now: number): Finding {
  const participants: FindingParticipant[] = [];
  const phrases: string[] = [];
  const item = (id: string): string => `item ${id.slice(id.lastIndexOf(':') + 1)}`;
  s.running.forEach((run, i) => {
    const queued = s.queuedBehind[i];
    participants.push({ pid: run.pid, threadId: run.workerThreadId ?? run.threadId, task: run.taskId, resource: r.id, role: 'waits', detail: `runs in a slot and waits for ${queued.map((q) => item(q.taskId)).join(', ')}, queued behind it`, site: run.site });
    for (const q of queued) participants.push({ pid: q.pid, threadId: q.threadId, task: q.taskId, resource: r.id, role: 'waits', detail: `queued by ${item(run.taskId)}, cannot start while every slot is taken`, site: q.site });
    phrases.push(`${item(run.taskId)}${run.site ? ` (at ${namer.site(run.site)})` : ''} waits for queued ${queued.map((q) => `${item(q.taskId)}${q.site ? ` (${namer.site(q.site)})` : ''}`).join(', ')}`);
  });
  const message = `Pool starvation: all ${s.concurrency} slot${s.concurrency === 1 ? '' : 's'} of ${r.kind} ${namer.resource(r, r.id)} (${r.library}) are taken by items that wait for work they queued behind themselves: ${phrases.slice(0, MAX_LISTED).join('; ')}`;
  return makeFinding('pool-starvation', 'error', message, participants, now);
}

/** A lock held longer than the threshold. */
export function longHoldFinding(namer: Namer, r: ResourceState, h: HoldState, now: number): Finding {
  const seconds = ((now - h.since) / 1000).toFixed(1);
  const name = namer.resource(r, r.id);
  const participants = [holdParticipant(h, `holds ${name} for ${seconds} s`)];
  const message = `Lock held too long: ${name} (${r.library} ${r.kind}) held by ${namer.task(h.taskId, h.pid, h.threadId)} for ${seconds} s, since it was taken at ${namer.site(h.site)}`;
  return { ...makeFinding('lock-held-too-long', 'warning', message, participants, now), since: h.since };
}

/** A release by a task that did not hold the lock (`hold` is what it released instead, if anything). */
export function nonHolderReleaseFinding(namer: Namer, r: ResourceState, e: LockReleasedEvent, pid: number, threadId: number, hold: HoldState | undefined, now: number): Finding {
  const name = namer.resource(r, r.id);
  const releaser = namer.task(e.taskId, pid, threadId);
  const participants: FindingParticipant[] = [{ pid, threadId, task: e.taskId, resource: r.id, role: 'running', detail: `releases ${name} without holding it`, site: e.site }];
  let whose = 'which nobody held';
  if (hold) {
    participants.push(holdParticipant(hold, `held ${name}, taken at ${namer.site(hold.site)}`));
    whose = `which ${namer.task(hold.taskId, hold.pid, hold.threadId)} held (taken at ${namer.site(hold.site)})`;
  }
  const message = `Release by a non-holder: ${releaser} released ${name} (${r.library} ${r.kind}) at ${namer.site(e.site)}, ${whose}`;
  return makeFinding('release-by-non-holder', 'warning', message, participants, now);
}

/** A thread (or process) exited holding locks, or with requests pending. */
export function exitFinding(namer: Namer, world: FindingWorld, pid: number, threadId: number, holds: HoldState[], pending: WaitState[], orphans: WaitState[], now: number, processExit: boolean): Finding {
  const who = processExit ? `${namer.thread(pid, threadId)} (its process exited)` : namer.thread(pid, threadId);
  const name = (id: string): string => namer.resource(world.resource(id), id);
  const participants: FindingParticipant[] = [];
  for (const h of holds) participants.push(holdParticipant(h, `held ${name(h.resourceId)} when its thread exited, taken at ${namer.site(h.site)}`));
  for (const w of pending) participants.push(waitParticipant(w, `still waited for ${name(w.resourceId)} when its thread exited`));
  for (const w of orphans) participants.push(waitParticipant(w, `orphaned: waits for ${name(w.resourceId)}, which the exited thread held`));
  const parts: string[] = [];
  if (holds.length > 0) parts.push(`while holding ${holds.map((h) => `${name(h.resourceId)} (taken at ${namer.site(h.site)})`).join(', ')}`);
  if (pending.length > 0) parts.push(`${holds.length > 0 ? 'and ' : ''}with requests pending for ${pending.map((w) => name(w.resourceId)).join(', ')}`);
  const orphaned = orphans.length > 0 ? `; ${orphans.length} task${orphans.length === 1 ? '' : 's'} of other threads wait${orphans.length === 1 ? 's' : ''} for what it held` : '';
  return makeFinding('exit-while-holding', 'warning', `Exit while holding: ${who} exited ${parts.join(' ')}${orphaned}`, participants, now);
}

function holdParticipant(h: HoldState, detail: string): FindingParticipant {
  return { pid: h.pid, threadId: h.threadId, task: h.taskId, resource: h.resourceId, role: 'holds', detail, site: h.site, stack: h.stack };
}

function waitParticipant(w: WaitState, detail: string): FindingParticipant {
  return { pid: w.pid, threadId: w.threadId, task: w.taskId, resource: w.resourceId, role: 'waits', detail, site: w.site, stack: w.stack };
}
