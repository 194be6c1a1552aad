import type { SourceSite, StackFrames } from '../protocol/agentEvents';
import type { LockMode } from '../protocol/resourceEvents';
import { conflicts } from './resourceState';

/**
 * The lock-order graph: an edge A → B for every acquisition of B made while holding A, with the
 * sites and stacks of both acquisitions. An edge B → A recorded later (by any task or thread, even
 * one that never ran at the same time) closes an inversion.
 *
 * Memory is bounded:
 * - at most {@link MAX_SAMPLES_PER_PAIR} distinct samples (site pair + gate locks) per ordered pair
 *   of resources: more samples of the same pair would only repeat the same warning at more sites;
 * - at most {@link MAX_ORDER_PAIRS} ordered pairs in all (then new pairs are counted, not kept);
 * - per acquisition, at most {@link MAX_HELD_CONSIDERED} held locks give edges, and each sample keeps
 *   at most {@link MAX_GATES} gate locks and {@link MAX_STACK_FRAMES} frames of each stack.
 * So the graph holds at most MAX_ORDER_PAIRS × MAX_SAMPLES_PER_PAIR samples (≈ 40k, a few KB each
 * with stacks: tens of MB in the worst case, a few KB in ordinary programs).
 */
export const MAX_SAMPLES_PER_PAIR = 4;
export const MAX_ORDER_PAIRS = 10_000;
export const MAX_HELD_CONSIDERED = 32;
export const MAX_GATES = 16;
export const MAX_STACK_FRAMES = 16;

/** One way a task took `to` while holding `from`. */
export interface OrderSample {
  from: string;
  to: string;
  taskId: string;
  pid: number;
  threadId: number;
  fromMode: LockMode;
  toMode: LockMode;
  /** Where `from` was taken. */
  fromSite?: SourceSite;
  fromStack?: StackFrames;
  /** Where `to` was taken (while holding `from`). */
  toSite?: SourceSite;
  toStack?: StackFrames;
  /** The other locks held at the time (sorted ids). */
  gates: string[];
}

/** Two samples in opposite orders that can deadlock. */
export interface Inversion {
  /** The sample just recorded. */
  forward: OrderSample;
  /** The earlier sample taken in the opposite order. */
  reverse: OrderSample;
}

export class LockOrderGraph {
  private readonly pairs = new Map<string, OrderSample[]>();
  /** Pairs not kept because the graph was full. */
  droppedPairs = 0;

  get size(): number {
    return this.pairs.size;
  }

  /** Records a sample and returns the inversions it closes with samples of the opposite order. */
  record(sample: OrderSample): Inversion[] {
    sample = trim(sample);
    if (!this.store(sample)) return [];
    const reverse = this.pairs.get(pairKey(sample.to, sample.from)) ?? [];
    const found: Inversion[] = [];
    for (const r of reverse) if (canDeadlock(sample, r)) found.push({ forward: sample, reverse: r });
    return found;
  }

  /** Forgets the pairs that involve a resource (it is gone). */
  forget(resourceIds: Set<string>): void {
    for (const key of [...this.pairs.keys()]) {
      const [a, b] = key.split('\n');
      if (resourceIds.has(a) || resourceIds.has(b)) this.pairs.delete(key);
    }
  }

  private store(sample: OrderSample): boolean {
    const key = pairKey(sample.from, sample.to);
    let list = this.pairs.get(key);
    if (!list) {
      if (this.pairs.size >= MAX_ORDER_PAIRS) {
        this.droppedPairs++;
        return false;
      }
      this.pairs.set(key, (list = []));
    }
    const id = sampleKey(sample);
    if (list.some((s) => sampleKey(s) === id)) return false;
    if (list.length < MAX_SAMPLES_PER_PAIR) {
      list.push(sample);
      return true;
    }
    // Full: a sample without gate locks (one that can deadlock) displaces one with gates.
    const gated = list.findIndex((s) => s.gates.length > 0);
    if (sample.gates.length > 0 || gated < 0) return false;
    list[gated] = sample;
    return true;
  }
}

/**
 * Whether two opposite samples can deadlock: the hold of each must conflict with the request of the
 * other (two shared holds never block), and they must not share a gate lock — when both orders are
 * taken while holding the same third lock G, only one of the two tasks can be inside G at a time, so
 * the two orders can never interleave and the inversion cannot deadlock.
 */
export function canDeadlock(a: OrderSample, b: OrderSample): boolean {
  if (!conflicts(a.fromMode, b.toMode) || !conflicts(b.fromMode, a.toMode)) return false;
  if (a.gates.length === 0 || b.gates.length === 0) return true;
  const gates = new Set(a.gates);
  return !b.gates.some((g) => gates.has(g));
}

function pairKey(a: string, b: string): string {
  return `${a}\n${b}`;
}

function siteKey(site: SourceSite | undefined): string {
  return site ? `${site.file}:${site.line}:${site.column}` : '?';
}

function sampleKey(s: OrderSample): string {
  return `${siteKey(s.fromSite)}>${siteKey(s.toSite)}|${s.fromMode}>${s.toMode}|${s.gates.join(',')}`;
}

function trim(s: OrderSample): OrderSample {
  const out: OrderSample = { ...s, gates: s.gates.slice(0, MAX_GATES) };
  if (s.fromStack && s.fromStack.length > MAX_STACK_FRAMES) out.fromStack = s.fromStack.slice(0, MAX_STACK_FRAMES);
  if (s.toStack && s.toStack.length > MAX_STACK_FRAMES) out.toStack = s.toStack.slice(0, MAX_STACK_FRAMES);
  return out;
}
