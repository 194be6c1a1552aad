/**
 * Child processes, observed. `ChildProcess.prototype.spawn` is the one door of spawn, fork, exec,
 * execFile and cluster.fork: the method is read from which child_process function is on the stack.
 * The *Sync functions never reach it, so they are wrapped: `block` before (written out: the thread
 * stops), `unblock` with the child's status after. Spawn failures are read from spawn's own return
 * value and exits from ChildProcess `emit` (see emitObserver.ts): no listener is added.
 */
import type { ChildFailedEvent, ChildSpawnedEvent, SpawnMethod, StackFrames } from '../protocol/agentEvents';
import type { BuiltinMap } from './builtins';
import type { AgentContext, ChildRecord } from './context';
import { replaceMethod } from './atomics';
import { defineEmit, makeObservedEmit } from './emitObserver';
import { captureStack, makeRoomForWrapperFrame, restoreStackLimit, userSite } from './stacks';

const ASYNC_METHODS = new Set(['spawn', 'fork', 'exec', 'execFile']);

/** Child stdio sockets, so the sampler can tell "waiting on my child's output" from other pipes. */
export const childStdio = new WeakMap<object, number>();
/** Children that are still running, by pid (for the sampler). */
export const liveChildren = new Map<number, { ipc: boolean; process: { connected?: boolean } }>();

interface SpawnOptions {
  file?: unknown;
  args?: unknown;
  shell?: unknown;
}

/** Which child_process function started this spawn: the outermost one on the stack wins (exec calls execFile). */
function methodFromStack(stack: StackFrames): SpawnMethod {
  let method: SpawnMethod = 'spawn';
  for (const frame of stack) {
    if (frame.file.startsWith('node:internal/cluster')) return 'cluster';
    if (frame.file !== 'node:child_process' || frame.functionName === undefined) continue;
    const name = frame.functionName.replace(/^Object\./, '');
    if (ASYNC_METHODS.has(name)) method = name as SpawnMethod;
  }
  return method;
}

function stringArgs(args: unknown): string[] {
  return Array.isArray(args) ? args.map((arg) => (typeof arg === 'string' ? arg : String(typeof arg))) : [];
}

export function installChildHooks(context: AgentContext, builtins: Pick<BuiltinMap, 'child_process' | 'util' | 'events'>): void {
  const childProcess = builtins.child_process;
  const proto = childProcess.ChildProcess.prototype as unknown as Record<string, unknown>;
  const originalSpawn = proto.spawn as (this: unknown, options: SpawnOptions) => unknown;
  if (typeof originalSpawn !== 'function') throw new Error('ChildProcess.prototype.spawn is missing');

  const records = new WeakMap<object, ChildRecord>();
  const afterSpawn = (child: Record<string, unknown>, options: SpawnOptions, stack: StackFrames, returned: unknown): void => {
    const method = methodFromStack(stack);
    const file = typeof options.file === 'string' ? options.file : '';
    const site = userSite(stack);
    const pid = child.pid;
    if (typeof pid !== 'number') {
      const code = typeof returned === 'number' && returned < 0 ? builtins.util.getSystemErrorName(returned) : 'failed';
      const event: ChildFailedEvent = { type: 'child-failed', ts: context.now(), method, file, error: { name: 'Error', message: `spawn ${file} ${code}` } };
      if (site) event.site = site;
      context.emit(event);
      return;
    }
    const ipc = child.channel !== undefined && child.channel !== null;
    const event: ChildSpawnedEvent = {
      type: 'child-spawned',
      ts: context.now(),
      pid,
      method,
      file,
      args: stringArgs(options.args).slice(1), // args[0] is argv0
      shell: options.shell !== undefined && options.shell !== false,
      ipc,
    };
    if (site) event.site = site;
    const record: ChildRecord = { spawned: event, ipc };
    context.addChild(record);
    context.labels.set(child, `child ${pid}`);
    liveChildren.set(pid, { ipc, process: child as { connected?: boolean } });
    if (Array.isArray(child.stdio)) for (const stream of child.stdio) if (typeof stream === 'object' && stream !== null) childStdio.set(stream, pid);
    context.emit(event);
    records.set(child, record);
  };

  const observedEmit = makeObservedEmit(builtins.events, (emitter, type, args) => {
    if (type !== 'exit') return;
    const record = records.get(emitter);
    if (record === undefined || record.exited !== undefined) return;
    const pid = record.spawned.pid;
    liveChildren.delete(pid);
    const exitCode = typeof args[1] === 'number' ? args[1] : null;
    const signal = typeof args[2] === 'string' ? args[2] : null;
    record.exited = { type: 'child-exited', ts: context.now(), pid, exitCode, signal };
    context.emit(record.exited);
  });
  defineEmit(proto, observedEmit);

  const spawnWrapper = {
    spawn(this: Record<string, unknown>, options: SpawnOptions): unknown {
      let stack: StackFrames | undefined;
      try {
        stack = captureStack(40);
      } catch {
        stack = undefined;
      }
      const saved = makeRoomForWrapperFrame();
      let returned: unknown;
      let threw = true;
      try {
        // eslint-disable-next-line prefer-rest-params
        returned = originalSpawn.apply(this, arguments as unknown as [SpawnOptions]);
        threw = false;
        return returned;
      } finally {
        restoreStackLimit(saved);
        if (stack !== undefined && typeof options === 'object' && options !== null) {
          try {
            afterSpawn(this, options, stack, threw ? undefined : returned);
          } catch {
            // not tracked
          }
        }
      }
    },
  };
  replaceMethod(proto, 'spawn', spawnWrapper.spawn, originalSpawn.length);

  installSyncHook(context, childProcess, 'spawnSync');
  installSyncHook(context, childProcess, 'execSync');
  installSyncHook(context, childProcess, 'execFileSync');
}

function syncCommand(method: 'spawnSync' | 'execSync' | 'execFileSync', args: unknown[]): string {
  if (method === 'execSync') return typeof args[0] === 'string' ? args[0] : '';
  const file = typeof args[0] === 'string' ? args[0] : '';
  return [file, ...stringArgs(args[1])].join(' ');
}

function installSyncHook(context: AgentContext, childProcess: BuiltinMap['child_process'], method: 'spawnSync' | 'execSync' | 'execFileSync'): void {
  const target = childProcess as unknown as Record<string, unknown>;
  const original = target[method] as (...args: unknown[]) => unknown;
  const wrappers = {
    run(this: unknown, ...args: unknown[]): unknown {
      let blocked = false;
      try {
        context.block({ kind: 'sync-child', method, command: syncCommand(method, args) }, captureStack());
        blocked = true;
      } catch {
        blocked = false;
      }
      const saved = makeRoomForWrapperFrame();
      let returned: unknown;
      let threw = true;
      try {
        returned = original.apply(this, args);
        threw = false;
        return returned;
      } finally {
        restoreStackLimit(saved);
        if (blocked) {
          try {
            unblockSync(context, method, threw, returned);
          } catch {
            // never into the program
          }
        }
      }
    },
  };
  replaceMethod(target, method, wrappers.run, original.length);
}

/**
 * spawnSync returns the child's pid and status. execSync and execFileSync return only its output
 * and throw on failure; the thrown error is not caught here (a rethrow would move the location
 * Node prints for an uncaught error), so a throwing call reports `error` without child details.
 */
function unblockSync(context: AgentContext, method: string, threw: boolean, returned: unknown): void {
  if (threw) {
    context.unblock('error');
    return;
  }
  if (method !== 'spawnSync' || typeof returned !== 'object' || returned === null) {
    context.unblock('0');
    return;
  }
  const result = returned as { pid?: unknown; status?: unknown; signal?: unknown; error?: unknown };
  const exitCode = typeof result.status === 'number' ? result.status : null;
  const signal = typeof result.signal === 'string' ? result.signal : null;
  const status = result.error !== undefined ? 'error' : signal ?? String(exitCode);
  context.unblock(status, typeof result.pid === 'number' && result.pid > 0 ? { pid: result.pid, exitCode, signal } : undefined);
}

/**
 * child_process is patched when it is first loaded, by whoever loads it (`require`, `import`,
 * `process.getBuiltinModule`, or Node itself for cluster), not at start: few programs and fewer
 * workers start processes, and loading child_process (with net, dgram, dns and streams: 17
 * internal modules) is the largest part of what the agent adds to a thread's start (~2.3 ms of a
 * Node 20 worker's ~4.4 ms). Node records each built-in it loads by pushing its name onto
 * `process.moduleLoadList` once the module has run and before the code that asked for it gets it;
 * the push onto an index the array lacks goes through the array's prototype, so a prototype that
 * sees that set patches child_process right then (the program never holds the unpatched
 * functions) and then gives the array back its own prototype. Node 20 has no in-thread hook that
 * sees an `import` of a built-in: this is the one way that works on every supported Node.
 * Returns false when child_process is already loaded or the list cannot be watched (patch now).
 */
export function installChildHooksOnLoad(
  context: AgentContext,
  builtins: Pick<BuiltinMap, 'util' | 'events' | 'module'>,
  load: () => BuiltinMap['child_process'] | undefined,
  onNote: (note: string) => void,
): boolean {
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  if (!Array.isArray(list) || Object.getPrototypeOf(list) !== Array.prototype || !Object.isExtensible(list)) return false;
  if (list.includes(LOADED_ENTRY)) return false;
  let patched = false;
  const patch = (): void => {
    patched = true;
    try {
      Object.setPrototypeOf(list, Array.prototype);
      const childProcess = load();
      if (childProcess === undefined) throw new Error('child_process cannot be loaded');
      installChildHooks(context, { child_process: childProcess, util: builtins.util, events: builtins.events });
      // An ES module facade made earlier (none is, before the first load) would see the patched functions too.
      builtins.module.syncBuiltinESMExports();
    } catch (error) {
      onNote(`child_process not tracked: ${(error as Error)?.message ?? 'unknown error'}`);
    }
  };
  const watcher = new Proxy(Array.prototype, {
    set(target, key, value, receiver) {
      if (receiver !== list) return Reflect.set(target, key, value, receiver);
      // An element of the list itself, as a plain push would make it.
      const made = Reflect.defineProperty(list, key, { value, writable: true, enumerable: true, configurable: true });
      try {
        if (!patched && value === LOADED_ENTRY) patch();
      } catch {
        // never into Node's loader
      }
      return made;
    },
  });
  try {
    Object.setPrototypeOf(list, watcher);
  } catch {
    return false;
  }
  return true;
}

/** What Node pushes onto `process.moduleLoadList` once child_process has loaded. */
const LOADED_ENTRY = 'NativeModule child_process';
