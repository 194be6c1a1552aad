import type { ResourceState, TaskState, WaitVerdict } from './resourceState';
import { hasTimeout, judgeWait } from './resourceState';

/** What the search reads from the graph. */
export interface DeadlockWorld {
  task(id: string): TaskState | undefined;
  resource(id: string): ResourceState | undefined;
  /**
   * The task that keeps the thread of `t` blocked for ever (a thread task in `Atomics.wait` without
   * a timeout, on a thread the agent reported blocked): an async task cannot run while its thread is
   * blocked. Undefined when the thread is free, or when `t` is that thread task.
   */
  freezer(t: TaskState): TaskState | undefined;
}

/** Whether a task could be stuck at all: it waits without a timeout, or its thread is frozen. */
export function mayBeStuck(world: DeadlockWorld, t: TaskState): boolean {
  return (t.wait !== undefined && !hasTimeout(t.wait)) || world.freezer(t) !== undefined;
}

/**
 * Whether `t` gets going in the end if the tasks for which `stuck` is true never move: its wait must
 * be granted (a wait with a timeout always ends) and its thread must not be frozen.
 */
export function judgeTask(world: DeadlockWorld, t: TaskState, stuck: (taskId: string) => boolean): WaitVerdict {
  const blockers: string[] = [];
  let proceed = true;
  if (t.wait !== undefined && !hasTimeout(t.wait)) {
    const r = world.resource(t.wait.resourceId);
    if (r) {
      const verdict = judgeWait(r, t.wait, stuck);
      if (!verdict.proceed) {
        proceed = false;
        blockers.push(...verdict.blockers);
      }
    }
  }
  const freezer = world.freezer(t);
  if (freezer && stuck(freezer.id)) {
    proceed = false;
    blockers.push(freezer.id);
  }
  return { proceed, blockers };
}

/** The outcome of a search. */
export interface StuckSet {
  /** Tasks that can never proceed. */
  stuck: Set<string>;
  /** Tasks looked at. */
  explored: number;
  /** True when the search stopped at its bound (then `stuck` is empty: nothing is claimed). */
  gaveUp: boolean;
}

/**
 * The tasks that can never proceed, among those reachable from `starts` along "waits for" edges:
 * the greatest fixed point of "waits without a timeout and is blocked only by tasks of the set".
 *
 * Only the part of the graph reachable from the starts is explored (a task's fate depends only on
 * the tasks it waits for), so a search from a new waiter costs the size of what it waits behind,
 * not the size of the graph. Tasks that would proceed even if every other waiter were stuck (a
 * mutex whose holder is running) are cut off at once. Bounded by `maxTasks`.
 */
export function findStuck(world: DeadlockWorld, starts: Iterable<string>, maxTasks: number): StuckSet {
  const candidate = (id: string): boolean => {
    const t = world.task(id);
    return t !== undefined && mayBeStuck(world, t);
  };
  const inSet = new Set<string>();
  const seen = new Set<string>();
  const dependents = new Map<string, string[]>();
  const queue: string[] = [];
  for (const s of starts) if (!seen.has(s)) {
    seen.add(s);
    queue.push(s);
  }
  let explored = 0;
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    const t = world.task(id);
    if (!t || !mayBeStuck(world, t)) continue;
    if (++explored > maxTasks) return { stuck: new Set(), explored, gaveUp: true };
    const verdict = judgeTask(world, t, candidate);
    if (verdict.proceed) continue;
    inSet.add(id);
    for (const b of verdict.blockers) {
      let list = dependents.get(b);
      if (!list) dependents.set(b, (list = []));
      list.push(id);
      if (!seen.has(b)) {
        seen.add(b);
        queue.push(b);
      }
    }
  }
  // Drop tasks that can proceed given the current set, until nothing changes.
  const work = [...inSet];
  const isStuck = (id: string): boolean => inSet.has(id);
  while (work.length > 0) {
    const id = work.pop() as string;
    if (!inSet.has(id)) continue;
    const t = world.task(id) as TaskState;
    if (!judgeTask(world, t, isStuck).proceed) continue;
    inSet.delete(id);
    for (const d of dependents.get(id) ?? []) if (inSet.has(d)) work.push(d);
  }
  return { stuck: inSet, explored, gaveUp: false };
}

/**
 * The cycles among stuck tasks: strongly connected components of the "blocked by" graph restricted
 * to the set, with more than one task or a task that blocks itself. Each is ordered by following
 * the edges from its first task (the task given as `first` when it belongs to it). Iterative
 * (Tarjan), so chains of any length do not overflow the stack. `edges` is filled with the blockers
 * of each task looked at (within the set), for the caller to reuse.
 */
export function stuckCycles(world: DeadlockWorld, stuck: Set<string>, first?: string, edges = new Map<string, string[]>()): string[][] {
  const isStuck = (id: string): boolean => stuck.has(id);
  const edgesOf = (id: string): string[] => {
    let e = edges.get(id);
    if (!e) {
      e = [...new Set(judgeTask(world, world.task(id) as TaskState, isStuck).blockers)];
      edges.set(id, e);
    }
    return e;
  };
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const order = first !== undefined && stuck.has(first) ? [first, ...[...stuck].filter((s) => s !== first)] : [...stuck];
  for (const root of order) {
    if (index.has(root)) continue;
    const frames: Array<{ id: string; edge: number }> = [{ id: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const out = edgesOf(frame.id);
      if (frame.edge < out.length) {
        const w = out[frame.edge++];
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          frames.push({ id: w, edge: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.id, Math.min(low.get(frame.id) as number, index.get(w) as number));
        }
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1].id;
        low.set(parent, Math.min(low.get(parent) as number, low.get(frame.id) as number));
      }
      if (low.get(frame.id) !== index.get(frame.id)) continue;
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== frame.id);
      if (component.length > 1 || edgesOf(frame.id).includes(frame.id)) components.push(orderCycle(component, edgesOf, first));
    }
  }
  return components;
}

/** Members of a component in the order the edges visit them, from `first` (or the first member). */
function orderCycle(component: string[], edgesOf: (id: string) => string[], first?: string): string[] {
  const members = new Set(component);
  const start = first !== undefined && members.has(first) ? first : [...members].sort()[0];
  const ordered: string[] = [];
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const id = todo.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    ordered.push(id);
    const out = edgesOf(id).filter((w) => members.has(w) && !seen.has(w));
    for (let i = out.length - 1; i >= 0; i--) todo.push(out[i]);
  }
  return ordered;
}
