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
 *   namespace over. Node 20 only has off-thread hooks (`module.register` starts a hooks thread in
 *   every process and runs the preload there again): not used, so ES imports of ES-only packages
 *   stay untracked on Node 20 (nothing is loaded that the agent could see, so no note either).
 * - Library name and version come from the package.json above the file (`async-mutex@0.5.0`);
 *   several copies or versions are patched independently (each has its own classes).
 * - Only the package's entry files (package.json main / exports ".") must have the shape the adapter
 *   knows; when an entry does not, the library is left alone and the thread's hello is sent again
 *   with a note. Other files of the package are offered quietly (async-mutex's lib/withTimeout.js).
 * - Bundled copies (the library inlined into the program's own bundle) are not found.
 */
import type { BuiltinMap } from '../builtins';

/** Adopts a library's exports: true (patched), false (not recognised), or a replacement for `module.exports` (CommonJS only). */
export type Adopter = (exports: unknown, library: string, packageDir: string) => boolean | { replace: unknown } | { replaceDefault: unknown };

const WRAPPER_QUERY = 'gridlock-wrapper';
const ADOPT_KEY = Symbol.for('gridlock.adopt');
const WATCH_ESM = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

export interface Discovery {
  /** Libraries seen, by `name@version`. */
  seen: Set<string>;
}

export function installDiscovery(
  builtins: { module: BuiltinMap['module']; fs: BuiltinMap['fs'] },
  adopters: Map<string, Adopter>,
  onNote: (note: string) => void,
): Discovery {
  const Module = builtins.module as unknown as {
    registerHooks?: (hooks: {
      resolve?: (specifier: string, context: unknown, next: (specifier: string, context: unknown) => { url: string }) => { url: string };
      load?: (url: string, context: unknown, next: (url: string, context: unknown) => LoadResult) => LoadResult;
    }) => unknown;
  };
  const fs = builtins.fs;
  const discovery: Discovery = { seen: new Set() };
  const versions = new Map<string, string>();
  const entries = new Map<string, Set<string>>();
  const adopted = new WeakSet<object>();
  const noted = new Set<string>();

  /** Version and entry files (main, exports ".") from the package.json of `dir`. */
  const versionOf = (dir: string): string => {
    let version = versions.get(dir);
    if (version === undefined) {
      version = '';
      const files = new Set<string>();
      try {
        const parsed = JSON.parse(fs.readFileSync(`${dir}/package.json`, 'utf8')) as { version?: unknown; main?: unknown; exports?: unknown };
        if (typeof parsed.version === 'string') version = parsed.version;
        const add = (value: unknown, depth = 0): void => {
          if (typeof value === 'string') {
            const file = `${dir}/${value.replace(/^\.\//, '')}`;
            files.add(file);
            files.add(`${file}.js`);
            files.add(`${file}/index.js`);
          } else if (typeof value === 'object' && value !== null && depth < 3) {
            const record = value as Record<string, unknown>;
            for (const key of Object.keys(record)) if (key === '.' || !key.startsWith('.')) add(record[key], depth + 1);
          }
        };
        add(parsed.main ?? 'index.js');
        add(parsed.exports);
      } catch {
        // unknown version
      }
      versions.set(dir, version);
      entries.set(dir, files);
    }
    return version;
  };

  /** Hands `exports` of the package at `file` to its adapter. `quiet`: a failed shape check is not noted. */
  const adopt = (file: string, exports: unknown, quiet: boolean): { replace: unknown } | { replaceDefault: unknown } | undefined => {
    const match = /^(.*\/node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(file);
    if (match === null) return undefined;
    const [, dir, name] = match;
    const adopter = adopters.get(name);
    if (adopter === undefined) return undefined;
    if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null || adopted.has(exports)) return undefined;
    adopted.add(exports);
    const library = `${name}@${versionOf(dir)}`;
    // Only the package's entry files are expected to have the shape the adapter knows.
    if (!entries.get(dir)?.has(file)) quiet = true;
    let result: boolean | { replace: unknown } | { replaceDefault: unknown };
    try {
      result = adopter(exports, library, `${dir}/`);
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

  if (typeof Module.registerHooks === 'function') {
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
    /** The package entry file a file: URL names, when it is one of a watched package. */
    const watchedEntry = (url: string): string | undefined => {
      if (!url.startsWith('file://') || url.includes('?')) return undefined;
      const match = WATCH_ESM.exec(url);
      if (match === null || !adopters.has(match[1])) return undefined;
      const file = decodeURIComponent(new URL(url).pathname);
      const dir = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
      if (dir === undefined) return undefined;
      versionOf(dir);
      return entries.get(dir)?.has(file) ? `${dir}/` : undefined;
    };
    // An import of a watched package's entry from outside the package resolves to a small wrapper
    // module (the entry's URL plus a query) that imports the entry itself, unchanged and under its
    // own URL (libraries build paths from import.meta.url), re-exports it and hands its namespace over.
    Module.registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        try {
          const dir = watchedEntry(result.url);
          const { parentURL: parent, conditions } = context as { parentURL?: unknown; conditions?: unknown };
          // require() (also of ES modules) is seen through the CommonJS cache: only imports are wrapped.
          if (Array.isArray(conditions) && conditions.includes('require')) return result;
          if (dir === undefined || (typeof parent === 'string' && (parent.startsWith(`file://${dir}`) || parent.includes(WRAPPER_QUERY)))) return result;
          return { ...result, url: `${result.url}?${WRAPPER_QUERY}` };
        } catch {
          return result;
        }
      },
      load(url, context, next) {
        if (!url.endsWith(`?${WRAPPER_QUERY}`)) return next(url, context);
        const entryUrl = url.slice(0, -WRAPPER_QUERY.length - 1);
        const result = next(entryUrl, context);
        try {
          if (result.format !== 'module') return result;
          const source = typeof result.source === 'string' ? result.source : result.source === undefined || result.source === null ? '' : Buffer.from(result.source as Uint8Array).toString('utf8');
          const original = JSON.stringify(entryUrl);
          const hasDefault = /\bexport\s+default\b|\bas\s+default\b/.test(source);
          const wrapper = [
            `import * as ns from ${original};`,
            `export * from ${original};`,
            `const adopt = globalThis[Symbol.for('gridlock.adopt')];`,
            `const replaced = typeof adopt === 'function' ? adopt(${original}, ns) : undefined;`,
            hasDefault ? `export default (replaced !== undefined ? replaced : ns.default);` : '',
          ].join('\n');
          return { ...result, source: wrapper, shortCircuit: true };
        } catch {
          return result;
        }
      },
    });
  }
  return discovery;
}

interface LoadResult {
  format?: string;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}
