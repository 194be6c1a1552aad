import type { DeadlockWorld } from './deadlockSearch';
import type { TaskState } from './resourceState';
import { judgeTask } from './deadlockSearch';

/**
 * How far each thread's event stream has reached the host, in agent time (`ts`: epoch-based,
 * high-resolution, the same clock in every thread of a machine).
 *
 * Why it matters: each thread's events arrive in order, but threads flush at different moments, so
 * the host's picture mixes a fresh view of one thread with a stale view of another. A lock shared
 * by threads (a Web Lock, a futex) can then look held by a task that in fact took it only after a
 * stale waiter had been granted it and let it go: a cycle that never existed. A cycle is certain
 * only when every thread it rests on has been heard from up to the latest event of the cycle: then
 * all its waits and holds were in place together at that instant.
 */
export class StreamClock {
  private readonly lastTs = new Map<string, number>();
  /** Threads whose last event is `block`: they flushed everything before blocking. */
  private readonly blocked = new Set<string>();

  /**
   * Records an event of a thread's stream: `blocks` true for a `block` event, false for any other
   * agent event, undefined for events that do not tell (resource events sent in the same flush
   * as a block were made before it).
   */
  saw(thread: string, ts: number, blocks?: boolean): void {
    if (ts > (this.lastTs.get(thread) ?? -Infinity)) this.lastTs.set(thread, ts);
    if (blocks === true) this.blocked.add(thread);
    if (blocks === false) this.blocked.delete(thread);
  }

  /** Whether everything thread `thread` did up to agent time `ts` has arrived. */
  fresh(thread: string, ts: number): boolean {
    return this.blocked.has(thread) || (this.lastTs.get(thread) ?? -Infinity) >= ts;
  }

  /** The agent time of the latest event heard from a thread (-Infinity before any). */
  last(thread: string): number {
    return this.lastTs.get(thread) ?? -Infinity;
  }

  forget(thread: string): void {
    this.lastTs.delete(thread);
    this.blocked.delete(thread);
  }
}

/** The tasks a cycle's verdict rests on: its members and the stuck tasks they wait behind, transitively. */
export function cycleDependencies(world: DeadlockWorld, cycle: string[], stuck: Set<string>, edges?: Map<string, string[]>): TaskState[] {
  const isStuck = (id: string): boolean => stuck.has(id);
  const seen = new Set(cycle);
  const todo = [...cycle];
  const out: TaskState[] = [];
  while (todo.length > 0) {
    const t = world.task(todo.pop() as string);
    if (!t) continue;
    out.push(t);
    for (const b of edges?.get(t.id) ?? judgeTask(world, t, isStuck).blockers) {
      if (seen.has(b)) continue;
      seen.add(b);
      todo.push(b);
    }
  }
  return out;
}

/** The latest agent time among the waits and holds of some tasks. */
export function latestTs(tasks: TaskState[]): number {
  let latest = -Infinity;
  for (const t of tasks) {
    if (t.wait) latest = Math.max(latest, t.wait.at);
    for (const h of t.holds.values()) latest = Math.max(latest, h.at);
  }
  return latest;
}
