import type { SourceSite } from '../protocol/agentEvents';
import type { ResourceKind } from '../protocol/resourceEvents';
import type { FindingParticipant, ReportResource } from '../protocol/report';
import type { Namer } from './resourceFindings';
import type { HoldState, QueueCounters, ResourceState, TaskState, WaitState } from './resourceState';

/** Most items of one queue or pool listed in the report. */
export const MAX_REPORTED_ITEMS = 100;

/** One resource as the live view shows it under a thread. */
export interface ThreadResourceView {
  id: string;
  kind: ResourceKind;
  library: string;
  name: string;
  site?: SourceSite;
  /** True when this thread created it (else its tasks hold it, wait for it, or run its items). */
  owned: boolean;
  holders: number;
  waiters: number;
  /** Holders and waiters that are tasks of this thread. */
  heldHere: number;
  waitingHere: number;
  /** Queues and pools: the last counters, and the items running on this thread. */
  queue?: QueueCounters;
  runningHere?: number;
}

/** A resource for the report: holders and waiters as participants (running and queued items for queues and pools). */
export function reportResource(r: ResourceState, namer: Namer): ReportResource {
  const out: ReportResource = { id: r.id, kind: r.kind, library: r.library, name: r.name, holders: [], waiters: [] };
  if (r.site) out.site = r.site;
  if (r.capacity !== undefined && Number.isFinite(r.capacity)) out.capacity = r.capacity;
  if (r.pool?.counters) out.completed = r.pool.counters.completed;
  if (r.pool && r.pool.workers.size > 0) out.workerThreadIds = [...r.pool.workers].sort((a, b) => a - b);
  for (const h of r.holders.values()) out.holders.push(holderParticipant(h, namer));
  for (const w of r.waiters.values()) out.waiters.push(waiterParticipant(w, namer));
  if (r.pool) {
    for (const item of r.pool.items.values()) {
      const list = item.state === 'running' ? out.holders : out.waiters;
      if (list.length >= MAX_REPORTED_ITEMS) continue;
      const by = item.submittedBy ? `, submitted by ${item.submittedBy}` : '';
      list.push({
        pid: item.pid,
        threadId: item.workerThreadId ?? item.threadId,
        task: item.taskId,
        resource: r.id,
        role: item.state === 'running' ? 'running' : 'waits',
        detail: `${item.state}${by}`,
        site: item.site,
      });
    }
  }
  return out;
}

function holderParticipant(h: HoldState, namer: Namer): FindingParticipant {
  const permits = h.permits > 1 ? `, ${h.permits} permits` : '';
  const key = h.key !== undefined ? ` key ${JSON.stringify(h.key)}` : '';
  return { pid: h.pid, threadId: h.threadId, task: h.taskId, resource: h.resourceId, role: 'holds', detail: `holds it (${h.mode}${permits})${key}, taken at ${namer.site(h.site)}`, site: h.site, stack: h.stack };
}

function waiterParticipant(w: WaitState, namer: Namer): FindingParticipant {
  const permits = w.permits > 1 ? `, ${w.permits} permits` : '';
  const timeout = w.timeoutMs !== null && Number.isFinite(w.timeoutMs) ? `, gives up after ${w.timeoutMs} ms` : '';
  return { pid: w.pid, threadId: w.threadId, task: w.taskId, resource: w.resourceId, role: 'waits', detail: `waits (${w.mode}${permits}${timeout}) at ${namer.site(w.site)}`, site: w.site, stack: w.stack };
}

/** The resources a thread owns or uses, for the live view (sorted: owned first, then by name). */
export function threadResourceViews(
  pid: number,
  threadId: number,
  owned: Iterable<string>,
  tasks: Iterable<TaskState>,
  pools: Iterable<ResourceState>,
  resource: (id: string) => ResourceState | undefined,
): ThreadResourceView[] {
  const views = new Map<string, ThreadResourceView>();
  const view = (r: ResourceState): ThreadResourceView => {
    let v = views.get(r.id);
    if (!v) {
      v = { id: r.id, kind: r.kind, library: r.library, name: r.name, owned: r.pid === pid && r.threadId === threadId, holders: r.holders.size, waiters: r.waiters.size, heldHere: 0, waitingHere: 0 };
      if (r.site) v.site = r.site;
      if (r.pool?.counters) v.queue = r.pool.counters;
      views.set(r.id, v);
    }
    return v;
  };
  for (const id of owned) {
    const r = resource(id);
    if (r) view(r);
  }
  for (const t of tasks) {
    for (const h of t.holds.values()) {
      const r = resource(h.resourceId);
      if (r) view(r).heldHere++;
    }
    const w = t.wait && resource(t.wait.resourceId);
    if (w) view(w).waitingHere++;
  }
  for (const r of pools) {
    let here = 0;
    for (const item of r.pool?.items.values() ?? []) if (item.state === 'running' && item.workerThreadId === threadId && item.pid === pid) here++;
    if (here > 0) view(r).runningHere = here;
  }
  return [...views.values()].sort((a, b) => Number(b.owned) - Number(a.owned) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
