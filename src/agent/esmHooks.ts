/**
 * Node 20's off-thread module hooks (`module.register`), started by the agent only where an ES-only
 * lock, queue or pool package may be imported (locks/discovery.ts): the same wrapping as the
 * in-thread hooks of Node 22.15+/24 (locks/esmWrapper.ts). Runs in Node's hooks thread; every hook
 * falls back to Node's own result on any error.
 */
import * as fs from 'node:fs';
import { PackageEntries, entryOfWrapper, wrappedUrl, wrapperSource } from './locks/esmWrapper';

interface Resolved {
  url: string;
}
interface Loaded {
  format?: string;
  source?: unknown;
}

let watched: ReadonlySet<string> = new Set();
const packages = new PackageEntries(fs);

export function initialize(data: unknown): void {
  const names = (data as { watched?: unknown } | undefined)?.watched;
  if (Array.isArray(names)) watched = new Set(names.filter((n): n is string => typeof n === 'string'));
}

export async function resolve(specifier: string, context: unknown, next: (specifier: string, context: unknown) => Promise<Resolved>): Promise<Resolved> {
  const result = await next(specifier, context);
  try {
    const url = wrappedUrl(result.url, context, watched, packages);
    return url === result.url ? result : { ...result, url };
  } catch {
    return result;
  }
}

export async function load(url: string, context: unknown, next: (url: string, context: unknown) => Promise<Loaded>): Promise<Loaded & { shortCircuit?: boolean }> {
  const entryUrl = entryOfWrapper(url);
  if (entryUrl === undefined) return next(url, context);
  const result = await next(entryUrl, context);
  try {
    return result.format === 'module' ? { ...result, source: wrapperSource(entryUrl, result.source), shortCircuit: true } : result;
  } catch {
    return result;
  }
}
