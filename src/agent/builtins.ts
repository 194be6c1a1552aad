/**
 * How the agent reaches Node's built-in modules. The same bundle is preloaded with `--require` and
 * evaluated through the inspector (attach), where `require` does not exist, so a static `import`
 * (which esbuild turns into `require`) is never used: `process.getBuiltinModule` works on
 * Node 20.16+/22/24; older preloaded Node falls back to the module's own `require`.
 */
import type * as Fs from 'node:fs';
import type * as WorkerThreads from 'node:worker_threads';
import type * as ChildProcess from 'node:child_process';
import type * as Events from 'node:events';
import type * as Inspector from 'node:inspector';
import type * as Util from 'node:util';
import type * as V8 from 'node:v8';
import type * as PerfHooks from 'node:perf_hooks';
import type * as Module from 'node:module';
import type * as Timers from 'node:timers';
import type * as AsyncHooks from 'node:async_hooks';
import type * as DiagnosticsChannel from 'node:diagnostics_channel';

/** The built-ins the agent uses, by name. */
export interface BuiltinMap {
  fs: typeof Fs;
  worker_threads: typeof WorkerThreads;
  child_process: typeof ChildProcess;
  events: typeof Events;
  inspector: typeof Inspector;
  util: typeof Util;
  v8: typeof V8;
  perf_hooks: typeof PerfHooks;
  module: typeof Module;
  timers: typeof Timers;
  async_hooks: typeof AsyncHooks;
  diagnostics_channel: typeof DiagnosticsChannel;
}

const cache = new Map<string, unknown>();

/** The built-in module, or undefined when this Node cannot give it (never throws). */
export function builtin<K extends keyof BuiltinMap>(name: K): BuiltinMap[K] | undefined {
  if (cache.has(name)) return cache.get(name) as BuiltinMap[K] | undefined;
  let value: unknown = name === 'module' ? loaderModuleClass() : undefined;
  if (value !== undefined) {
    cache.set(name, value);
    return value as BuiltinMap[K];
  }
  value = load(name);
  cache.set(name, value);
  return value as BuiltinMap[K] | undefined;
}

/**
 * `node:module` itself, for what the loader's class lacks until it is loaded (Node 20's
 * `register`, which loading it adds to that same class). Never throws.
 */
export function fullModuleBuiltin(): BuiltinMap['module'] | undefined {
  return load('module') as BuiltinMap['module'] | undefined;
}

function load(name: string): unknown {
  try {
    const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    if (typeof getBuiltinModule === 'function') return getBuiltinModule.call(process, name);
    // Node before 20.16, preloaded only: the CommonJS module's own require (absent when injected).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (typeof require === 'function') return require(name);
  } catch {
    // not available here
  }
  return undefined;
}

/**
 * `node:module` is the CommonJS loader's Module class with more statics, and loading it costs a
 * worker ~0.65 ms on Node 24 and ~0.2 ms on Node 20 (it pulls in the ES module loader). Where the
 * class the preloaded agent reaches through its own `module` has what the agent needs at start
 * (`_cache`, `syncBuiltinESMExports`, and `registerHooks` where Node has it), that class is used.
 * Node 20's lacks `register` until `node:module` is loaded: the one caller that needs it (off-thread
 * hooks, rare) loads it then ({@link fullModuleBuiltin}).
 */
function loaderModuleClass(): unknown {
  try {
    if (typeof module !== 'object' || module === null) return undefined;
    const loader = (module as { constructor?: unknown }).constructor;
    if (typeof loader !== 'function') return undefined;
    const statics = loader as unknown as Record<string, unknown>;
    // Node 20 and 21 never have registerHooks; a later Node whose class lacks it may have it in node:module.
    const hooksAsExpected = typeof statics.registerHooks === 'function' || Number(process.versions.node.split('.')[0]) < 22;
    const complete = typeof statics._cache === 'object' && typeof statics.syncBuiltinESMExports === 'function' && hooksAsExpected;
    return complete ? loader : undefined;
  } catch {
    return undefined;
  }
}
