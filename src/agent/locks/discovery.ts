/**
 * Finding the lock, queue and pool libraries however the program loads them.
 *
 * - CommonJS: `require('async-mutex')`, `import` of a CommonJS package from an ES module (Node 20
 *   and 24 load those through the CommonJS loader by absolute path) and `require()` of an ES-only
 *   package (require(esm), Node 20.19+ and 24) all put a module in `Module._cache`. The cache object
 *   is wrapped in a Proxy whose `set` trap, for files under `node_modules/<watched package>/`,
 *   watches the module's `loaded` flag; when it turns true (the module has run) its exports are
 *   handed to the adapter, which patches the classes' prototypes (or returns a replacement for a
 *   function export: fastq). No agent frame is on the stack while the program's modules run, so
 *   error stacks and Error.stackTraceLimit are untouched; `require.cache` is that Proxy.
 * - `import` of ES modules (p-queue, await-lock, tinypool, async-mutex's index.mjs): on Node with
 *   `module.registerHooks` (in-thread hooks: 22.15+, 24), a `resolve` hook sends imports of a watched
 *   package's entry file (from outside the package) to a small wrapper module that imports the entry
 *   under its own URL (libraries build paths from import.meta.url), re-exports it and hands its
 *   namespace over (esmWrapper.ts). Node 20 only has off-thread hooks: `module.register` starts a
 *   hooks thread, which takes a thread id (the program's workers then get ids one higher: an
 *   observable change), so it is used only on request (GRIDLOCK_ESM_HOOKS=1) and where it can
 *   matter — the thread's entry is an ES module and a watched ES-only package is installed above
 *   it — with the same hooks (esmHooks.ts); the agent stays silent in that hooks thread.
 * - Library name and version come from the package.json above the file (`async-mutex@0.5.0`);
 *   several copies or versions are patched independently (each has its own classes).
 * - Only the package's entry files (package.json main / exports ".") must have the shape the adapter
 *   knows; when an entry does not, the library is left alone and the thread's hello is sent again
 *   with a note. Other files of the package are offered quietly (async-mutex's lib/withTimeout.js).
 * - Copies bundled by esbuild into the program's own file are found on Node with in-thread hooks
 *   (bundled.ts); minified bundles and Node 20 are not.
 */
import type { BuiltinMap } from '../builtins';
import { fullModuleBuiltin } from '../builtins';
import type { BundledRange } from './bundled';
import { ADOPT_KEY, PackageEntries, entryOfWrapper, wrappedUrl, wrapperSource } from './esmWrapper';
import { BUNDLED_KEY, rewriteBundle, wrapCommonJsHelper } from './bundled';

/** Adopts a library's exports: true (patched), false (not recognised), or a replacement for `module.exports` (CommonJS only). */
export type Adopter = (exports: unknown, library: string, packageDir: string) => boolean | { replace: unknown } | { replaceDefault: unknown };

/** ES-only packages among the watched ones: only they make off-thread hooks worth starting (Node 20). */
const ES_ONLY = ['p-queue', 'p-limit', 'await-lock', 'tinypool'];
/** environmentData key telling the agent in Node's hooks thread to stay silent. */
export const HOOKS_THREAD_KEY = 'gridlock.hooksThread';

export interface Discovery {
  /** Libraries seen, by `name@version`. */
  seen: Set<string>;
}

/** What deciding on and starting Node 20's off-thread hooks needs (absent when injected by attach). */
export interface OffThreadHooks {
  hooksUrl: string;
  /** The thread's entry file is an ES module (.mjs, or .js under "type": "module"). */
  entryIsModule: boolean;
  /** Where to look for node_modules upwards. */
  entryDir: string;
  workerThreads: BuiltinMap['worker_threads'];
}

/** Whether one of the ES-only watched packages is installed in a node_modules above `dir`. */
function esOnlyInstalled(fs: BuiltinMap['fs'], dir: string): boolean {
  for (let at = dir; ; ) {
    for (const name of ES_ONLY) if (fs.existsSync(`${at}/node_modules/${name}/package.json`)) return true;
    const up = at.slice(0, at.lastIndexOf('/'));
    if (up === at || up === '') return false;
    at = up;
  }
}

export function installDiscovery(
  builtins: { module: BuiltinMap['module']; fs: BuiltinMap['fs'] },
  adopters: Map<string, Adopter>,
  onNote: (note: string) => void,
  esHooks?: OffThreadHooks,
  /** A loaded file holds bundled copies of watched packages at these lines. */
  onBundle: (file: string, ranges: BundledRange[]) => void = () => undefined,
): Discovery {
  const Module = builtins.module as unknown as {
    register?: (specifier: string, options: { data: unknown }) => void;
    registerHooks?: (hooks: {
      resolve?: (specifier: string, context: unknown, next: (specifier: string, context: unknown) => { url: string }) => { url: string };
      load?: (url: string, context: unknown, next: (url: string, context: unknown) => LoadResult) => LoadResult;
    }) => unknown;
  };
  const fs = builtins.fs;
  const discovery: Discovery = { seen: new Set() };
  const packages = new PackageEntries(fs);
  const adopted = new WeakSet<object>();
  const noted = new Set<string>();

  /** True the first time these exports (an object or function) are seen: they are the adapter's to look at. */
  const claim = (exports: unknown): exports is object => {
    if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null || adopted.has(exports)) return false;
    adopted.add(exports);
    return true;
  };
  /** Runs the adapter; a shape it does not know is noted once per library unless `quiet`. */
  const handOver = (adopter: Adopter, exports: object, library: string, dir: string, quiet: boolean): { replace: unknown } | { replaceDefault: unknown } | undefined => {
    let result: ReturnType<Adopter>;
    try {
      result = adopter(exports, library, dir);
    } catch {
      result = false;
    }
    if (result === false) {
      if (!quiet && !noted.has(library)) {
        noted.add(library);
        onNote(`${library} not tracked: not a version the agent recognises`);
      }
      return undefined;
    }
    discovery.seen.add(library);
    return result === true ? undefined : result;
  };

  /** Hands `exports` of the package at `file` to its adapter. `quiet`: a failed shape check is not noted. */
  const adopt = (file: string, exports: unknown, quiet: boolean): { replace: unknown } | { replaceDefault: unknown } | undefined => {
    const match = /^(.*\/node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(file);
    if (match === null) return undefined;
    const [, dir, name] = match;
    const adopter = adopters.get(name);
    if (adopter === undefined || !claim(exports)) return undefined;
    // Only the package's entry files are expected to have the shape the adapter knows.
    return handOver(adopter, exports, `${name}@${packages.versionOf(dir)}`, `${dir}/`, quiet || !packages.isEntry(dir, file));
  };

  // The CommonJS cache: a module of a watched package is seen when Node stores it there (before it
  // runs) and handed over once its `loaded` flag turns true (after it ran). Nothing of the agent is
  // on the stack while the program's modules run, so error stacks stay the same.
  const WATCH_CJS = new RegExp(`/node_modules/(${[...adopters.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})/`);
  const observeLoaded = (filename: string, module: { exports?: unknown; parent?: { filename?: unknown } | null }): void => {
    let loaded = false;
    Object.defineProperty(module, 'loaded', {
      configurable: true,
      enumerable: true,
      get: () => loaded,
      set(value: unknown) {
        Object.defineProperty(module, 'loaded', { value, writable: true, configurable: true, enumerable: true });
        loaded = value === true;
        if (value !== true) return;
        try {
          const parent = module.parent?.filename;
          const dir = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+\/)/.exec(filename)?.[1];
          const internal = typeof parent === 'string' && dir !== undefined && parent.startsWith(dir);
          const replaced = adopt(filename, module.exports, internal);
          if (replaced !== undefined && 'replace' in replaced) module.exports = replaced.replace;
        } catch {
          // never into the program
        }
      },
    });
  };
  const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
  if (typeof cache === 'object' && cache !== null) {
    (Module as unknown as { _cache: Record<string, unknown> })._cache = new Proxy(cache, {
      set(target, key, value) {
        target[key as string] = value;
        try {
          if (typeof key === 'string' && WATCH_CJS.test(key) && typeof value === 'object' && value !== null && (value as { loaded?: unknown }).loaded === false) observeLoaded(key, value as { exports?: unknown });
        } catch {
          // never into the program
        }
        return true;
      },
    });
  }

  const watched = new Set(adopters.keys());
  const defineAdopt = (): void => {
    Object.defineProperty(globalThis, ADOPT_KEY, {
      value: (url: string, namespace: unknown): unknown => {
        try {
          const replaced = adopt(decodeURIComponent(new URL(url).pathname), namespace, false);
          return replaced !== undefined && 'replaceDefault' in replaced ? replaced.replaceDefault : undefined;
        } catch {
          return undefined; // never into the program
        }
      },
      enumerable: false,
      configurable: false,
      writable: false,
    });
  };
  /** A bundled copy's file, its factory just ran: its exports go to the adapter (bundled.ts). */
  const adoptBundled = (name: string, file: string, exports: unknown): unknown => {
    const adopter = adopters.get(name);
    if (adopter === undefined || !claim(exports)) return undefined;
    // Only the package's entry is expected to have the shape the adapter knows.
    const result = handOver(adopter, exports, `${name}@bundled`, `bundled:${name}/`, !/(?:^|\/)index\.c?js$/.test(file));
    return result !== undefined && 'replace' in result ? result.replace : undefined;
  };
  const bundleSource = (url: string, result: LoadResult): LoadResult => {
    if (result.format === 'module' || typeof result.source !== 'string') return result;
    const rewritten = rewriteBundle(result.source, watched);
    if (rewritten === undefined) return result;
    onBundle(url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url, rewritten.ranges);
    return { ...result, source: rewritten.source };
  };

  if (typeof Module.registerHooks === 'function') {
    defineAdopt();
    Object.defineProperty(globalThis, BUNDLED_KEY, {
      value: (helper: unknown): unknown => {
        try {
          return typeof helper === 'function' ? wrapCommonJsHelper(helper as Parameters<typeof wrapCommonJsHelper>[0], watched, adoptBundled) : helper;
        } catch {
          return helper; // never into the program
        }
      },
      enumerable: false,
      configurable: false,
      writable: false,
    });
    Module.registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        try {
          const url = wrappedUrl(result.url, context, watched, packages);
          return url === result.url ? result : { ...result, url };
        } catch {
          return result;
        }
      },
      load(url, context, next) {
        const entryUrl = entryOfWrapper(url);
        if (entryUrl === undefined) {
          const result = next(url, context);
          try {
            return bundleSource(url, result);
          } catch {
            return result;
          }
        }
        const result = next(entryUrl, context);
        try {
          return result.format === 'module' ? { ...result, source: wrapperSource(entryUrl, result.source), shortCircuit: true } : result;
        } catch {
          return result;
        }
      },
    });
  } else if (esHooks !== undefined && esHooks.entryIsModule && esOnlyInstalled(fs, esHooks.entryDir)) {
    // The loader's class gets `register` when node:module is loaded (builtins.ts).
    if (typeof Module.register !== 'function') fullModuleBuiltin();
    const register = Module.register;
    if (typeof register !== 'function') return discovery;
    defineAdopt();
    const workerThreads = esHooks.workerThreads;
    // The hooks thread starts inside register(): it inherits this marker, then it is taken back.
    workerThreads.setEnvironmentData(HOOKS_THREAD_KEY, true);
    try {
      register.call(Module, esHooks.hooksUrl, { data: { watched: [...watched] } });
    } finally {
      workerThreads.setEnvironmentData(HOOKS_THREAD_KEY, undefined);
    }
  }
  return discovery;
}

interface LoadResult {
  format?: string;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}
