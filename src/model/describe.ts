import type { ErrorInfo, SourceSite } from '../protocol/agentEvents';
import type { ProcessModel, ThreadModel } from './processTree';

/** `file:line:column`, with file:// URLs shown as paths and the working directory left out. */
export function describeSite(site: SourceSite, cwd?: string): string {
  let file = site.file.startsWith('file://') ? decodeURIComponent(site.file.slice('file://'.length)) : site.file;
  if (cwd && file.startsWith(cwd + '/')) file = file.slice(cwd.length + 1);
  return `${file}:${site.line}:${site.column}`;
}

/** `Error: message`. */
export function describeError(error: ErrorInfo): string {
  return `${error.name}: ${error.message}`;
}

/** `main thread of pid 12` / `worker 3 'name' of pid 12`. */
export function threadLabel(p: ProcessModel, t: ThreadModel, withPid = true): string {
  const who = t.threadId === 0 ? 'main thread' : `worker ${t.threadId}${t.name && t.name !== `worker ${t.threadId}` ? ` '${t.name}'` : ''}`;
  return withPid ? `${who} of pid ${p.pid}` : who;
}

/** The 32-bit FNV-1a hash of a string, as 8 hex digits: stable ids without Node's crypto. */
export function stableHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
