/**
 * worker_threads.Worker, observed: `worker-created` (with the call site, whether the worker will
 * run the agent, and the SharedArrayBuffers it is handed) and `worker-exited`. The subclass keeps
 * `instanceof`, statics and the program's arguments untouched. Exit and error are seen through its
 * `emit` (see emitObserver.ts): no listener is added, so an unhandled worker error still crashes
 * the parent exactly as it would.
 */
import type { SharedBufferRef, WorkerCreatedEvent, WorkerExitedEvent } from '../protocol/agentEvents';
import type { BuiltinMap } from './builtins';
import type { AgentContext, WorkerRecord } from './context';
import type { SharedBufferRegistry } from './sharedBuffers';
import { defineEmit, makeObservedEmit } from './emitObserver';
import { findSharedBuffers } from './sharedBuffers';
import { agentBundlePath, captureStack, describeError, makeRoomForWrapperFrame, restoreStackLimit, userSite } from './stacks';

/** Worker environment-data key: the hub configuration, inherited by every worker. */
export const CONFIG_DATA_KEY = 'gridlock.config';
/** Worker environment-data key, set only while a Worker is constructed: what the parent knows of it. */
export const SPAWN_DATA_KEY = 'gridlock.spawn';

/** What a parent tells the worker it creates (through environment data). */
export interface SpawnData {
  script: string;
  name: string;
  /** SharedArrayBuffer ids by workerData path. */
  buffers: Record<string, string>;
}

/** Reads an own data property without running a getter or a proxy trap. */
/** MessagePorts that belong to a Worker object, by the worker's threadId. */
export const workerPorts = new WeakMap<object, number>();

export function readOwn(object: unknown, key: string, isProxy: (value: unknown) => boolean): unknown {
  if (typeof object !== 'object' || object === null || isProxy(object)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}

/** Whether a NODE_OPTIONS or execArgv still loads this agent bundle (itself, or the loader next to it). */
function loadsAgent(text: string | undefined): boolean {
  const bundle = agentBundlePath();
  if (bundle === undefined || text === undefined) return false;
  return text.includes(bundle) || text.includes(bundle.replace(/agent\.js$/, 'agentLoader.js'));
}

export function installWorkerHooks(context: AgentContext, builtins: Pick<BuiltinMap, 'worker_threads' | 'events' | 'util'>, buffers: SharedBufferRegistry): void {
  const workerThreads = builtins.worker_threads;
  const isProxy = (value: unknown): boolean => builtins.util.types.isProxy(value);
  const Original = workerThreads.Worker;
  const originalRef = Original.prototype.ref;
  const originalUnref = Original.prototype.unref;
  const records = new WeakMap<object, WorkerRecord>();

  /** Whether the new worker will load the agent: with neither execArgv nor env it inherits this thread's options. */
  const willLoadAgent = (options: unknown): boolean => {
    const execArgv = readOwn(options, 'execArgv', isProxy);
    const env = readOwn(options, 'env', isProxy);
    const customEnv = typeof env === 'object' && env !== null && (env as unknown) !== workerThreads.SHARE_ENV;
    if (!Array.isArray(execArgv) && !customEnv) return context.identity.via === 'preload';
    const nodeOptions = customEnv ? readOwn(env, 'NODE_OPTIONS', isProxy) : process.env.NODE_OPTIONS;
    const argv = Array.isArray(execArgv) ? execArgv.join(' ') : process.execArgv.join(' ');
    return loadsAgent(typeof nodeOptions === 'string' ? nodeOptions : undefined) || loadsAgent(argv);
  };

  const prepare = (args: unknown[]): { event: WorkerCreatedEvent; spawn: SpawnData } => {
    const [filename, options] = args;
    const isEval = readOwn(options, 'eval', isProxy) === true;
    const script = isEval ? '[worker eval]' : filename instanceof URL ? filename.href : typeof filename === 'string' ? filename : '[worker]';
    const name = readOwn(options, 'name', isProxy);
    const shared: SharedBufferRef[] = [];
    const idsByPath: Record<string, string> = {};
    for (const { path, buffer } of findSharedBuffers(readOwn(options, 'workerData', isProxy), 'workerData', isProxy)) {
      const ref = buffers.refOf(buffer);
      idsByPath[path] = ref.id;
      shared.push({ id: ref.id, byteLength: ref.byteLength, label: path });
    }
    const stack = captureStack();
    const event: WorkerCreatedEvent = {
      type: 'worker-created',
      ts: context.now(),
      threadId: -1,
      name: typeof name === 'string' ? name : '',
      script,
      tracked: willLoadAgent(options),
    };
    const site = userSite(stack);
    if (site) event.site = site;
    if (shared.length > 0) event.sharedBuffers = shared;
    return { event, spawn: { script, name: event.name, buffers: idsByPath } };
  };

  const exited = (record: WorkerRecord, exitCode: number, error?: WorkerExitedEvent['error']): void => {
    if (record.exited !== undefined) return;
    const event: WorkerExitedEvent = { type: 'worker-exited', ts: context.now(), threadId: record.created.threadId, exitCode };
    if (error) event.error = error;
    record.exited = event;
    context.emit(event);
  };

  const observe = (worker: InstanceType<typeof Original>, event: WorkerCreatedEvent): void => {
    event.threadId = worker.threadId;
    const record: WorkerRecord = { created: event, refed: true };
    records.set(worker, record);
    context.labels.set(worker, `worker ${worker.threadId}`);
    // The worker's end of its message channel (a private field): when 'message' listeners ref it,
    // the sampler must see "waiting on worker N", not an anonymous port.
    for (const key of Object.getOwnPropertySymbols(worker)) {
      const value = (worker as unknown as Record<symbol, unknown>)[key];
      if (typeof value === 'object' && value !== null && (value as { constructor?: { name?: string } }).constructor?.name === 'MessagePort') {
        workerPorts.set(value, worker.threadId);
      }
    }
    context.addWorker(record);
    context.emit(event);
  };

  const observedEmit = makeObservedEmit(builtins.events, (emitter, type, args) => {
    const record = records.get(emitter);
    if (record === undefined) return;
    if (type === 'exit') {
      exited(record, typeof args[1] === 'number' ? args[1] : 1, record.error);
    } else if (type === 'error') {
      record.error = describeError(args[1]);
      // Without an 'error' listener the parent dies inside this emit: report now, write now.
      if ((emitter as { listenerCount(name: string): number }).listenerCount('error') === 0) {
        exited(record, 1, record.error);
        context.channel.flush();
      }
    }
  });

  class Worker extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      let prepared: ReturnType<typeof prepare> | undefined;
      try {
        prepared = prepare(args);
        workerThreads.setEnvironmentData(SPAWN_DATA_KEY, prepared.spawn as never);
      } catch {
        prepared = undefined;
      }
      const saved = makeRoomForWrapperFrame();
      try {
        super(...args);
      } finally {
        restoreStackLimit(saved);
        if (prepared !== undefined) {
          try {
            workerThreads.setEnvironmentData(SPAWN_DATA_KEY, undefined);
          } catch {
            // nothing set
          }
        }
      }
      try {
        if (prepared !== undefined) observe(this, prepared.event);
      } catch {
        // not tracked
      }
    }

    override ref(): void {
      const record = records.get(this);
      if (record) record.refed = true;
      return originalRef.call(this);
    }

    override unref(): void {
      const record = records.get(this);
      if (record) record.refed = false;
      return originalUnref.call(this);
    }
  }

  defineEmit(Worker.prototype, observedEmit);
  const descriptor = Object.getOwnPropertyDescriptor(workerThreads, 'Worker');
  if (descriptor === undefined || !('value' in descriptor)) throw new Error('worker_threads.Worker is not a plain property');
  Object.defineProperty(workerThreads, 'Worker', { ...descriptor, value: Worker });
}

/** In a worker: what its parent said about it (script, name, buffer ids), or undefined. */
export function readSpawnData(workerThreads: BuiltinMap['worker_threads']): SpawnData | undefined {
  try {
    const data = workerThreads.getEnvironmentData(SPAWN_DATA_KEY) as SpawnData | undefined;
    return typeof data === 'object' && data !== null ? data : undefined;
  } catch {
    return undefined;
  }
}
