/**
 * Copies of the tracked libraries bundled into the program by esbuild (esbuild, tsup, and tools
 * built on them), on Node with in-thread module hooks (22.15+, 24).
 *
 * esbuild keeps each CommonJS file of a package as a factory keyed by its path
 * (`__commonJS({ "node_modules/async-mutex/lib/index.js"(exports) { … } })`), behind one
 * `__commonJS` helper per bundle. When a loaded file has that helper and a watched package's key,
 * the `load` hook appends one statement to the line that ends the helper, replacing it with a
 * wrapper that hands each watched file's exports to the adapter once its factory has run — the
 * same hand-over as for a `require` of the package. Only that line gets longer: every line number
 * and every other column of the bundle stay as they were, so stack traces are unchanged. The
 * lines of the bundle that hold the library's files are remembered, so call sites skip them like
 * the frames of an installed copy. Minified bundles (no paths, renamed helper) and ES-module
 * packages (inlined without factories) are not recognised.
 */

/** globalThis key of the function the rewritten bundle calls with its `__commonJS` helper. */
export const BUNDLED_KEY = Symbol.for('gridlock.bundled');

const HELPER = 'var __commonJS = (cb, mod) => function __require() {';
/** The line that ends the helper (esbuild's output: the arrow's body closes at the line start). */
const HELPER_END = '\n};';

/** Lines (1-based, inclusive) of a bundle that hold one watched package's files. */
export interface BundledRange {
  name: string;
  from: number;
  to: number;
}

/**
 * The bundle rewritten to hand watched packages over, and where their files are; undefined when
 * `source` is not an esbuild bundle with a watched package in it.
 */
export function rewriteBundle(source: string, watched: ReadonlySet<string>): { source: string; ranges: BundledRange[] } | undefined {
  const helperAt = source.indexOf(HELPER);
  if (helperAt < 0) return undefined;
  const ranges = bundledRanges(source, watched);
  if (ranges.length === 0) return undefined;
  const endAt = source.indexOf(HELPER_END, helperAt);
  if (endAt < 0) return undefined;
  const insertAt = endAt + HELPER_END.length;
  const statement = ` __commonJS = globalThis[Symbol.for('gridlock.bundled')]?.(__commonJS) ?? __commonJS;`;
  return { source: source.slice(0, insertAt) + statement + source.slice(insertAt), ranges };
}

/** Compiler helpers bundled alongside (tslib, …): their lines are never a call site either. */
const HELPER_PACKAGES = new Set(['tslib', '@babel/runtime', 'regenerator-runtime', '@swc/helpers']);

/** The lines of the watched packages' files (and their helpers), up to the next file of the bundle. */
function bundledRanges(source: string, watched: ReadonlySet<string>): BundledRange[] {
  const ranges: BundledRange[] = [];
  // esbuild writes `// <path>` before each file it inlines, the program's own included.
  const marker = /^\/\/ (\S+\.(?:[cm]?[jt]sx?|json))$/gm;
  let line = 1;
  let lineAt = 0;
  const lineOf = (index: number): number => {
    for (let i = source.indexOf('\n', lineAt); i >= 0 && i < index; i = source.indexOf('\n', i + 1)) {
      line++;
      lineAt = i + 1;
    }
    return line;
  };
  let open: BundledRange | undefined;
  let anyWatched = false;
  for (let match = marker.exec(source); match !== null; match = marker.exec(source)) {
    const at = lineOf(match.index);
    if (open !== undefined) open.to = at - 1;
    open = undefined;
    const owner = packageOfKey(match[1]);
    if (owner !== undefined && (watched.has(owner.name) || HELPER_PACKAGES.has(owner.name))) {
      anyWatched ||= watched.has(owner.name);
      open = { name: owner.name, from: at, to: Number.MAX_SAFE_INTEGER };
      ranges.push(open);
    }
  }
  return anyWatched ? ranges : [];
}

/** The package a factory key belongs to (`node_modules/async-mutex/lib/index.js` → `async-mutex`), and its file in it. */
export function packageOfKey(key: string): { name: string; file: string } | undefined {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(key);
  return match === null ? undefined : { name: match[1], file: match[2] };
}

/**
 * The replacement for a bundle's `__commonJS` helper: factories of watched packages hand their
 * exports to `adopt` (once, after they ran); all others are the helper's own.
 */
export function wrapCommonJsHelper(
  helper: (cb: Record<string, unknown>, mod?: unknown) => () => unknown,
  watched: ReadonlySet<string>,
  /** Returns a replacement for the exports (a patched function export), or undefined. */
  adopt: (name: string, file: string, exports: unknown) => unknown,
): (cb: Record<string, unknown>, mod?: unknown) => () => unknown {
  return function __commonJS(cb, mod) {
    const load = helper(cb, mod);
    let owner: { name: string; file: string } | undefined;
    try {
      const key = Object.getOwnPropertyNames(cb)[0];
      owner = key === undefined ? undefined : packageOfKey(key);
    } catch {
      owner = undefined;
    }
    if (owner === undefined || !watched.has(owner.name)) return load;
    const { name, file } = owner;
    let handed = false;
    let replacement: unknown;
    return function __require() {
      const exports = load();
      if (!handed) {
        handed = true;
        try {
          replacement = adopt(name, file, exports);
        } catch {
          replacement = undefined; // never into the program
        }
      }
      return replacement === undefined ? exports : replacement;
    };
  };
}
