/**
 * Locks, queues and pools the program writes itself and publishes on `node:diagnostics_channel`
 * (the contract: protocol/publishedResources.ts). Subscribing costs the program nothing until it
 * publishes; every message is checked and a malformed one ignored, and nothing here throws into the
 * publisher (diagnostics_channel would rethrow a subscriber's error on the next tick).
 */
import type { StackFrames } from '../../protocol/agentEvents';
import type { PublishedLockMessage, PublishedQueueMessage } from '../../protocol/publishedResources';
import type { ResourceKind } from '../../protocol/resourceEvents';
import type { BuiltinMap } from '../builtins';
import type { LockTracker, Resource, Waiter } from './tracker';
import type { AgentTimers } from './trackedQueue';
import { TrackedQueue, finiteNumber } from './trackedQueue';

const LIBRARY = 'diagnostics_channel';
/** PUBLISHED_LOCK_CHANNEL and PUBLISHED_QUEUE_CHANNEL of protocol/publishedResources.ts, repeated: the agent may only import types from protocol (a unit test keeps them equal). */
export const AGENT_CHANNELS = { lock: 'gridlock:lock', queue: 'gridlock:queue' } as const;
/** Most shared lock ids remembered per thread (a program that mints ids forever must not grow us). */
const MAX_SHARED_IDS = 4096;
/** Most items remembered per queue between `enqueue` and `done`. */
const MAX_ITEMS = 4096;

type Item = ReturnType<TrackedQueue['queued']>;
interface PublishedQueue {
  tracked: TrackedQueue;
  items: Map<unknown, Item>;
  paused: boolean;
}

const isObject = (value: unknown): value is object => (typeof value === 'object' && value !== null) || typeof value === 'function';
const optionalNumber = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const optionalText = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
/** The resource id of a lock or queue published with a shared `id` (the same in every thread and process). */
const sharedResourceId = (id: string): string => `published:${id}`;
const optionalMode = (value: unknown): 'exclusive' | 'shared' | undefined => (value === 'shared' || value === 'exclusive' ? value : undefined);

export function installPublishedResources(tracker: LockTracker, channels: BuiltinMap['diagnostics_channel'], timers: AgentTimers): void {
  const locks = new WeakMap<object, Resource>();
  const sharedLocks = new Map<string, Resource>();
  const waiters = new Map<string, Waiter>();
  const queues = new WeakMap<object, PublishedQueue>();

  /** The program's stack below the publishing function: its caller is the site. */
  const callerStack = (): StackFrames => {
    const stack = tracker.stack();
    const publisher = stack.findIndex((frame) => !frame.file.startsWith('node:') && !frame.file.startsWith('internal/'));
    return publisher < 0 ? stack : stack.slice(publisher + 1);
  };

  /** A subclass's constructor (its `super(…)` line, or its implicit constructor at `class … extends`) is not where the program creates it. */
  const SUBCLASS_CONSTRUCTION = /\bsuper\s*\(|\bclass\b[^{]*\bextends\b/;
  const creationStack = (): StackFrames => {
    const stack = callerStack();
    let skip = 0;
    while (skip < stack.length - 1 && SUBCLASS_CONSTRUCTION.test(tracker.sourceLine(stack[skip]) ?? '')) skip++;
    return stack.slice(skip);
  };

  const lockOf = (message: Partial<PublishedLockMessage>, create?: Extract<PublishedLockMessage, { op: 'create' }>): Resource | undefined => {
    const lock = message.lock;
    if (!isObject(lock)) return undefined;
    let resource = locks.get(lock);
    if (resource !== undefined) return resource;
    const id = optionalText(message.id);
    if (id !== undefined) resource = sharedLocks.get(id);
    if (resource === undefined) {
      const kind: ResourceKind = create?.kind === 'semaphore' || create?.kind === 'rwlock' ? create.kind : 'mutex';
      const capacity = optionalNumber(create?.capacity) ?? (kind === 'mutex' ? 1 : undefined);
      const stack = create !== undefined ? creationStack() : callerStack();
      const name = optionalText(create?.name);
      resource = tracker.createResource({
        kind,
        library: LIBRARY,
        ...(create !== undefined ? { creation: stack } : { useSite: tracker.site(stack) }),
        ...(name !== undefined ? { name } : {}),
        ...(id !== undefined ? { id: sharedResourceId(id) } : {}),
        ...(capacity !== undefined ? { capacity } : {}),
        reentrant: create?.reentrant === true,
      });
      if (id !== undefined) {
        if (sharedLocks.size >= MAX_SHARED_IDS) sharedLocks.clear();
        sharedLocks.set(id, resource);
      }
    }
    locks.set(lock, resource);
    return resource;
  };

  const onLock = (raw: unknown): void => {
    try {
      if (!isObject(raw)) return;
      const message = raw as Partial<PublishedLockMessage> & Record<string, unknown>;
      switch (message.op) {
        case 'create': {
          const resource = lockOf(message, message as Extract<PublishedLockMessage, { op: 'create' }>);
          // Announced now only by the thread that creates it; users of a shared id announce on first use.
          if (resource !== undefined) tracker.announce(resource);
          return;
        }
        case 'wait': {
          const resource = lockOf(message);
          if (resource === undefined) return;
          const stack = callerStack();
          const task = tracker.tasks.enter(stack);
          if (waiters.has(`${resource.id}|${task.id}`)) return;
          const timeoutMs = optionalNumber(message.timeoutMs);
          const permits = optionalNumber(message.permits);
          const mode = optionalMode(message.mode);
          const waiter = tracker.wait(resource, task, { stack, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(permits !== undefined ? { permits } : {}), ...(mode !== undefined ? { mode } : {}) });
          // Keyed by the task that waits (a wait can get a task of its own: tasks.ts, guard 3).
          waiters.set(`${resource.id}|${waiter.task.id}`, waiter);
          return;
        }
        case 'acquired': {
          const resource = lockOf(message);
          if (resource === undefined) return;
          const waited = tracker.tasks.current();
          const waiter = waited !== undefined ? waiters.get(`${resource.id}|${waited.id}`) : undefined;
          const stack = waiter === undefined && tracker.detailed(resource) ? callerStack() : undefined;
          const task = waiter?.task ?? tracker.tasks.enter(stack);
          if (waiter !== undefined) waiters.delete(`${resource.id}|${task.id}`);
          const site = stack !== undefined ? tracker.site(stack) : undefined;
          tracker.acquired(resource, task, waiter, site, optionalNumber(message.permits), undefined, optionalMode(message.mode));
          return;
        }
        case 'wait-ended': {
          const resource = lockOf(message);
          const task = tracker.tasks.current();
          if (resource === undefined || task === undefined) return;
          const key = `${resource.id}|${task.id}`;
          const waiter = waiters.get(key);
          if (waiter === undefined) return;
          waiters.delete(key);
          const reason = message.reason === 'cancelled' || message.reason === 'aborted' ? message.reason : 'timeout';
          tracker.waitEnded(waiter, reason);
          return;
        }
        case 'release': {
          const resource = lockOf(message);
          if (resource === undefined) return;
          const releaser = tracker.tasks.peek();
          const holding = tracker.pickHolding(resource, releaser);
          if (holding !== undefined) tracker.released(holding, releaser);
          return;
        }
        default:
          return;
      }
    } catch {
      // never into the program
    }
  };

  const queueOf = (message: Partial<PublishedQueueMessage>, create?: Extract<PublishedQueueMessage, { op: 'create' }>): PublishedQueue | undefined => {
    const queue = message.queue;
    if (!isObject(queue)) return undefined;
    let published = queues.get(queue);
    if (published !== undefined) return published;
    const concurrency = finiteNumber(create?.concurrency, Infinity);
    const stack = create !== undefined ? creationStack() : callerStack();
    const kind = create?.kind === 'pool' ? 'pool' : 'queue';
    const name = optionalText(create?.name);
    const state: { paused: boolean } = { paused: false };
    const shared = optionalText(message.id);
    const id = shared !== undefined ? sharedResourceId(shared) : undefined;
    const tracked = new TrackedQueue(tracker, kind, LIBRARY, create !== undefined ? stack : tracker.site(stack), concurrency, () => ({ concurrency, paused: state.paused }), timers, {
      ...(name !== undefined ? { name } : {}),
      ...(id !== undefined ? { id } : {}),
    });
    published = Object.assign(state, { tracked, items: new Map<unknown, Item>() });
    queues.set(queue, published);
    return published;
  };

  const onQueue = (raw: unknown): void => {
    try {
      if (!isObject(raw)) return;
      const message = raw as Partial<PublishedQueueMessage> & Record<string, unknown>;
      const queue = queueOf(message, message.op === 'create' ? (message as Extract<PublishedQueueMessage, { op: 'create' }>) : undefined);
      if (queue === undefined) return;
      switch (message.op) {
        case 'enqueue': {
          if (queue.items.size >= MAX_ITEMS) return;
          queue.items.set(message.item, queue.tracked.queued(false, tracker.site(callerStack())));
          return;
        }
        case 'start': {
          const item = queue.items.get(message.item);
          if (item !== undefined) queue.tracked.started(item, optionalNumber(message.workerThreadId));
          return;
        }
        case 'done': {
          const item = queue.items.get(message.item);
          if (item === undefined) return;
          queue.items.delete(message.item);
          queue.tracked.finished(item, message.failed === true);
          return;
        }
        case 'stats': {
          const size = optionalNumber(message.size);
          if (size === undefined || size < 0) return;
          queue.tracked.reported = { size, running: Math.max(0, optionalNumber(message.running) ?? 0) };
          queue.tracked.stats();
          return;
        }
        case 'pause':
        case 'resume':
          queue.paused = message.op === 'pause';
          queue.tracked.stats();
          return;
        default:
          return;
      }
    } catch {
      // never into the program
    }
  };

  channels.subscribe(AGENT_CHANNELS.lock, onLock);
  channels.subscribe(AGENT_CHANNELS.queue, onQueue);
}
