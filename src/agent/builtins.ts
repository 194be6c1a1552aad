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
  let value: unknown;
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
