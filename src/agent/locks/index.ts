/**
 * Locks, queues and pools: wires the library adapters to library discovery, and Web Locks and
 * futexes to their built-ins. Installing costs nothing per operation of a program that uses none
 * of them: a Proxy on the CommonJS module cache (a regex test per module stored), in-thread
 * resolve/load hooks where Node has them (Node 24), a patched `LockManager.prototype.request`, and
 * wrappers on Atomics.compareExchange/store/exchange/notify (a type test per call).
 * The AsyncLocalStorage that carries tasks is only created at the first use of a tracked library.
 */
import type { AgentContext } from '../context';
import type { PendingWaits } from '../pending';
import type { SharedBufferRegistry } from '../sharedBuffers';
import { builtin } from '../builtins';
import { Tasks } from './tasks';
import { LockTracker } from './tracker';
import { adoptAsyncMutex } from './asyncMutex';
import { adoptAsyncLock, adoptAsyncSema, adoptAwaitLock } from './simpleLocks';
import { installDiscovery } from './discovery';
import type { Adopter, OffThreadHooks } from './discovery';
import { installWebLocks } from './webLocks';
import { installFutexLocks } from './futex';
import { queueAdopters } from './queues';
import { poolAdopters } from './pools';
import { ChannelTasks } from './channelTasks';
import { installPublishedResources } from './published';

/** Opt-in for Node 20's off-thread module hooks (see offThreadHooks). */
const ESM_HOOKS_ENV = 'GRIDLOCK_ESM_HOOKS';

/**
 * Node 20's off-thread hooks for ES imports: main thread of a preloaded agent only (see discovery.ts),
 * and only when asked for with GRIDLOCK_ESM_HOOKS=1 — Node's hooks thread takes a thread id, so the
 * program's own workers get ids one higher than without Gridlock (an observable change).
 */
function offThreadHooks(context: AgentContext, fs: NonNullable<ReturnType<typeof builtin<'fs'>>>): OffThreadHooks | undefined {
  if (process.env[ESM_HOOKS_ENV] !== '1') return undefined;
  const workerThreads = builtin('worker_threads');
  const entry = process.argv[1];
  if (!context.identity.isMainThread || context.identity.via !== 'preload' || typeof __filename !== 'string' || workerThreads === undefined || typeof entry !== 'string' || !entry.startsWith('/')) return undefined;
  const entryDir = entry.slice(0, entry.lastIndexOf('/'));
  const hooksFile = `${__filename.slice(0, __filename.lastIndexOf('/'))}/agentEsmHooks.mjs`;
  return { hooksUrl: `file://${hooksFile.split('/').map(encodeURIComponent).join('/')}`, entryIsModule: isEsModuleFile(fs, entry), entryDir, workerThreads };
}

/** .mjs/.mts, or .js/.ts under a package.json with "type": "module". */
function isEsModuleFile(fs: NonNullable<ReturnType<typeof builtin<'fs'>>>, file: string): boolean {
  if (/\.m[jt]s$/.test(file)) return true;
  if (!/\.[jt]s$/.test(file)) return false;
  for (let dir = file.slice(0, file.lastIndexOf('/')); dir !== ''; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    try {
      return (JSON.parse(fs.readFileSync(`${dir}/package.json`, 'utf8')) as { type?: unknown }).type === 'module';
    } catch {
      // no package.json here: look further up
    }
  }
  return false;
}

export function installLockTracking(context: AgentContext, buffers: SharedBufferRegistry, pending: PendingWaits, onNote: (note: string) => void): LockTracker | undefined {
  const asyncHooks = builtin('async_hooks');
  const moduleBuiltin = builtin('module');
  const fs = builtin('fs');
  if (asyncHooks === undefined) return undefined;
  const { pid, threadId } = context.identity;
  const timers = builtin('timers');
  const tracker = new LockTracker(context, new Tasks(`${pid}:${threadId}`, asyncHooks), pending, fs, timers);
  const withDir =
    (adopt: (exports: unknown, library: string, tracker: LockTracker) => boolean | { replace: unknown } | { replaceDefault: unknown }): Adopter =>
    (exports, library, dir) => {
      const ok = adopt(exports, library, tracker);
      if (ok !== false) tracker.addLibraryDir(dir);
      return ok;
    };
  const adopters = new Map<string, Adopter>([
    ['async-mutex', withDir((e, l, t) => adoptAsyncMutex(e as Record<string, unknown>, l, t))],
    ['async-lock', withDir(adoptAsyncLock)],
    ['async-sema', withDir(adoptAsyncSema)],
    ['await-lock', withDir(adoptAwaitLock)],
  ]);
  const attempt = (what: string, install: () => void): void => {
    try {
      install();
    } catch (error) {
      onNote(`${what} not tracked: ${(error as Error)?.message ?? 'unknown error'}`);
    }
  };
  // Pools link ports sent with an item to it; the constructors are replaced now, used only once a pool library is (main.ts syncs the ES exports).
  const channelTasks = new ChannelTasks(tracker.tasks);
  attempt('MessagePorts of pool items', () => channelTasks.install(builtin('worker_threads')));
  if (timers !== undefined) for (const [name, adopt] of [...queueAdopters(tracker, timers), ...poolAdopters(tracker, timers, channelTasks)]) adopters.set(name, withDir(adopt));
  if (moduleBuiltin !== undefined && fs !== undefined) attempt('lock libraries', () => installDiscovery({ module: moduleBuiltin, fs }, adopters, onNote, offThreadHooks(context, fs), (file, ranges) => tracker.addLibraryLines(file, ranges)));
  attempt('Web Locks', () => {
    const workerThreads = builtin('worker_threads') as { locks?: unknown } | undefined;
    const manager = workerThreads?.locks;
    if (manager !== undefined) installWebLocks(tracker, manager);
  });
  attempt('futex locks', () => installFutexLocks(tracker, buffers));
  const channels = builtin('diagnostics_channel');
  if (channels !== undefined && timers !== undefined) attempt('published resources', () => installPublishedResources(tracker, channels, timers));
  return tracker;
}
