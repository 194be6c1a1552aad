/**
 * How an `import` of a watched ES-only package is made visible, the same with Node's in-thread
 * hooks (`module.registerHooks`, Node 22.15+/24: discovery.ts) and its off-thread hooks
 * (`module.register`, Node 20: esmHooks.ts): the import of the package's entry file, from outside
 * the package, resolves to a small wrapper module — the entry's URL plus a query — that imports the
 * entry itself unchanged and under its own URL (libraries build paths from import.meta.url),
 * re-exports it, and hands its namespace to the agent of the importing thread through
 * `globalThis[Symbol.for('gridlock.adopt')]`, which may replace the default export (p-limit).
 */
import type { BuiltinMap } from '../builtins';

export const WRAPPER_QUERY = 'gridlock-wrapper';
export const ADOPT_KEY = Symbol.for('gridlock.adopt');
const WATCH_ESM = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

/** Version and entry files (main, exports ".") of packages, read from their package.json once. */
export class PackageEntries {
  private readonly versions = new Map<string, string>();
  private readonly entries = new Map<string, Set<string>>();

  constructor(private readonly fs: Pick<BuiltinMap['fs'], 'readFileSync'>) {}

  /** The version of the package in `dir` ('' when unknown). */
  versionOf(dir: string): string {
    let version = this.versions.get(dir);
    if (version !== undefined) return version;
    version = '';
    const files = new Set<string>();
    try {
      const parsed = JSON.parse(this.fs.readFileSync(`${dir}/package.json`, 'utf8')) as { version?: unknown; main?: unknown; exports?: unknown };
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
    this.versions.set(dir, version);
    this.entries.set(dir, files);
    return version;
  }

  /** Whether `file` is an entry file of the package in `dir`. */
  isEntry(dir: string, file: string): boolean {
    this.versionOf(dir);
    return this.entries.get(dir)?.has(file) === true;
  }
}

/** The package directory when the file: URL is an entry of a watched package, else undefined. */
function watchedEntryDir(url: string, watched: ReadonlySet<string>, packages: PackageEntries): string | undefined {
  if (!url.startsWith('file://') || url.includes('?')) return undefined;
  const match = WATCH_ESM.exec(url);
  if (match === null || !watched.has(match[1])) return undefined;
  const file = decodeURIComponent(new URL(url).pathname);
  const dir = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
  return dir !== undefined && packages.isEntry(dir, file) ? `${dir}/` : undefined;
}

/** After `next` resolved: the wrapper's URL when this import should be wrapped, else the URL unchanged. */
export function wrappedUrl(url: string, context: unknown, watched: ReadonlySet<string>, packages: PackageEntries): string {
  const dir = watchedEntryDir(url, watched, packages);
  if (dir === undefined) return url;
  const { parentURL: parent, conditions } = (context ?? {}) as { parentURL?: unknown; conditions?: unknown };
  // require() (also of ES modules) is seen through the CommonJS cache: only imports are wrapped.
  if (Array.isArray(conditions) && conditions.includes('require')) return url;
  if (typeof parent === 'string' && (parent.startsWith(`file://${dir}`) || parent.includes(WRAPPER_QUERY))) return url;
  return `${url}?${WRAPPER_QUERY}`;
}

/** The entry URL a wrapper URL stands for, or undefined for any other URL. */
export function entryOfWrapper(url: string): string | undefined {
  return url.endsWith(`?${WRAPPER_QUERY}`) ? url.slice(0, -WRAPPER_QUERY.length - 1) : undefined;
}

/** The wrapper module's source, given the entry's URL and its own source (to know if it has a default export). */
export function wrapperSource(entryUrl: string, entrySource: unknown): string {
  const source = typeof entrySource === 'string' ? entrySource : entrySource === undefined || entrySource === null ? '' : Buffer.from(entrySource as Uint8Array).toString('utf8');
  const original = JSON.stringify(entryUrl);
  const hasDefault = /\bexport\s+default\b|\bas\s+default\b/.test(source);
  return [
    `import * as ns from ${original};`,
    `export * from ${original};`,
    `const adopt = globalThis[Symbol.for('gridlock.adopt')];`,
    `const replaced = typeof adopt === 'function' ? adopt(${original}, ns) : undefined;`,
    hasDefault ? `export default (replaced !== undefined ? replaced : ns.default);` : '',
  ].join('\n');
}
