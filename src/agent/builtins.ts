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
  try {
    const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    if (typeof getBuiltinModule === 'function') value = getBuiltinModule.call(process, name);
    // Node before 20.16, preloaded only: the CommonJS module's own require (absent when injected).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    else if (typeof require === 'function') value = require(name);
  } catch {
    value = undefined;
  }
  cache.set(name, value);
  return value as BuiltinMap[K] | undefined;
}

/**
 * `node:module` is the CommonJS loader's Module class with more statics, and loading it costs a
 * worker ~0.65 ms on Node 24 (it pulls in the ES module loader). Where the class the preloaded
 * agent reaches through its own `module` already has all the agent uses (`_cache`, `registerHooks`,
 * `syncBuiltinESMExports`: Node 22.15+, 24), that class is used. Node 20's lacks `register`, so
 * Node 20 loads `node:module` (~0.2 ms there).
 */
function loaderModuleClass(): unknown {
  try {
    if (typeof module !== 'object' || module === null) return undefined;
    const loader = (module as { constructor?: unknown }).constructor;
    if (typeof loader !== 'function') return undefined;
    const statics = loader as unknown as Record<string, unknown>;
    const complete = typeof statics._cache === 'object' && typeof statics.registerHooks === 'function' && typeof statics.syncBuiltinESMExports === 'function';
    return complete ? loader : undefined;
  } catch {
    return undefined;
  }
}
