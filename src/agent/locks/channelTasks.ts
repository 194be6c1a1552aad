/**
 * Links the handlers of a MessagePort to the pool item the port was sent with (piscina, tinypool:
 * a task asks the main thread for something over a port of its own).
 *
 * A port's 'message' handlers run in the async context its channel was created in (Node 20–24,
 * wherever the handlers are registered), so a channel created inside a task of its own carries that
 * task to both ports' handlers, without entering it anywhere else: the creating code goes on in its
 * own context. When a port of such a channel travels with a pool item (in the task object or its
 * `transferList`), the channel's task takes the item's id, and what its handlers submit is queued
 * by that item. A channel whose ports travel with a second item keeps the first: an ambiguous link
 * is better left as it is than made wrong.
 *
 * The `MessageChannel` of `node:worker_threads` and the global one are replaced at start (a program
 * takes its reference before it loads a pool library) by a constructor that makes the same channels
 * (same prototype, so `instanceof` holds). It does no more than one extra call until the first pool
 * of such a library is adopted ({@link ChannelTasks.activate}): a program without one pays nothing.
 */
import type { BuiltinMap } from '../builtins';
import type { TaskCell, Tasks } from './tasks';

/** How many values of a task object are looked at for ports (the task is the program's: look, never walk). */
const MAX_VALUES_SEEN = 32;

export class ChannelTasks {
  private readonly cellOfPort = new WeakMap<object, TaskCell>();
  private readonly bound = new WeakSet<TaskCell>();
  private active = false;

  constructor(private readonly tasks: Tasks) {}

  /** Replaces the MessageChannel constructors (once per thread, at start; the caller syncs the ES module exports). */
  install(workerThreads: BuiltinMap['worker_threads'] | undefined): void {
    const exportsObject = workerThreads as unknown as Record<string, unknown> | undefined;
    const Original = exportsObject?.MessageChannel as (new (...args: unknown[]) => { port1: object; port2: object }) | undefined;
    if (typeof Original !== 'function') return;
    const tasks = this.tasks;
    const cells = this.cellOfPort;
    const isActive = (): boolean => this.active;
    const Wrapped = function MessageChannel(this: unknown, ...args: unknown[]): unknown {
      // Called without `new`: the original throws its own TypeError.
      if (new.target === undefined) return Reflect.apply(Original, this, args);
      if (!isActive()) return Reflect.construct(Original, args, new.target);
      const cell = tasks.newTask();
      const channel = tasks.run(cell, () => Reflect.construct(Original, args, new.target) as { port1: object; port2: object });
      try {
        cells.set(channel.port1, cell);
        cells.set(channel.port2, cell);
      } catch {
        // never into the program
      }
      return channel;
    };
    Object.defineProperty(Wrapped, 'prototype', { value: Original.prototype });
    Object.defineProperty(Wrapped, 'length', { value: Original.length });
    const replace = (owner: Record<string, unknown>): void => {
      const descriptor = Object.getOwnPropertyDescriptor(owner, 'MessageChannel');
      if (descriptor === undefined || descriptor.configurable !== true || ('value' in descriptor && descriptor.value !== Original)) return;
      Object.defineProperty(owner, 'MessageChannel', { configurable: true, enumerable: descriptor.enumerable ?? false, writable: true, value: Wrapped });
    };
    replace(exportsObject!);
    replace(globalThis as unknown as Record<string, unknown>);
  }

  /** A pool library is in use: channels created from now on get a task of their own. */
  activate(): void {
    this.active = true;
  }

  /** A pool item `itemId` was submitted with `task` and `options`: a linked port among them gives its channel the item's id. */
  bindItem(task: unknown, options: unknown, itemId: string): void {
    if (!this.active) return;
    const candidates: unknown[] = [];
    const transferList = (options as { transferList?: unknown } | undefined)?.transferList;
    if (Array.isArray(transferList)) candidates.push(...transferList.slice(0, MAX_VALUES_SEEN));
    if (typeof task === 'object' && task !== null && !Array.isArray(task)) {
      for (const key of Object.keys(task).slice(0, MAX_VALUES_SEEN)) {
        const descriptor = Object.getOwnPropertyDescriptor(task, key); // never a getter of the program's
        if (descriptor !== undefined && 'value' in descriptor) candidates.push(descriptor.value);
      }
    }
    for (const value of candidates) {
      if (typeof value !== 'object' || value === null) continue;
      const cell = this.cellOfPort.get(value);
      if (cell === undefined || this.bound.has(cell)) continue;
      this.bound.add(cell);
      cell.id = itemId;
      return;
    }
  }
}
