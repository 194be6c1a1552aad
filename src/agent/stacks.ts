/**
 * Stack capture without the agent: call sites for events, the stack of a thread on demand, and
 * removal of the agent's own frames from errors that pass through its wrappers.
 *
 * Stacks are read from `new Error().stack` text rather than CallSite objects, because the text is
 * what Node source-maps (tsx, --enable-source-maps) and CallSites are not.
 */
import type { SourceSite, StackFrames } from '../protocol/agentEvents';

const OriginalError = Error;
const FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/;

/** The bundle file as Node names it in frames. */
let agentFile: string | undefined;
/** When the bundle's frames are source-mapped, the directory of the agent's sources. */
let agentSourceDir: string | undefined;
let learned = false;

/**
 * Learns how the agent's own frames look (bundle path, or source-mapped path), on first need: a
 * formatted stack costs a worker ~0.3 ms at start, and most threads never need it.
 */
export function learnAgentFrames(): void {
  if (learned) return;
  learned = true;
  const bundle = typeof __filename === 'string' ? __filename : undefined;
  const own = parseFrames(rawStack(4))[0]?.file;
  agentFile = bundle ?? own;
  if (own !== undefined && own !== agentFile) {
    const slash = Math.max(own.lastIndexOf('/'), own.lastIndexOf('\\'));
    if (slash > 0) agentSourceDir = own.slice(0, slash + 1);
  }
}

/** The bundle path when the agent was preloaded (used to tell whether NODE_OPTIONS still loads it). */
export function agentBundlePath(): string | undefined {
  return typeof __filename === 'string' ? __filename : undefined;
}

/** True for a frame of the agent itself. */
export function isAgentFile(file: string): boolean {
  if (!learned) learnAgentFrames();
  return file === agentFile || (agentSourceDir !== undefined && file.startsWith(agentSourceDir));
}

/**
 * Takes the stack below `below` (a function on the stack: it and the frames above it are left out)
 * without formatting it: V8 turns frames into text only when `.stack` is first read, and that is
 * most of a stack's cost. For waits that are read only if they last (LockTracker's quiet waits).
 */
export function captureUnformatted(below: (...args: never[]) => unknown, limit: number): { stack?: unknown } | undefined {
  return withStackLimit(limit, () => {
    const holder: { stack?: unknown } = {};
    OriginalError.captureStackTrace(holder, below);
    return holder;
  });
}

interface CallSiteLike {
  isAsync?(): boolean;
  getFileName(): string | null | undefined;
  getFunctionName(): string | null;
  getPosition?(): number;
  isEval?(): boolean;
  getEnclosingLineNumber?(): number | null;
  getEnclosingColumnNumber?(): number | null;
}

/**
 * The program's functions on the synchronous part of the stack, innermost first, each named by
 * where it is defined (`file:line:column:name`). Read from V8's CallSite objects, with nothing
 * formatted (~1 µs): an identity for comparing two stacks, not a site to show (CallSites are not
 * source-mapped; see above). `isProgramFile` tells the program's files from the libraries'.
 * Undefined when they cannot be read (the program replaced Error, or froze it).
 */
export function functionsOnStack(limit: number, isProgramFile: (file: string) => boolean): string[] | undefined {
  const sites = callSites(limit, functionsOnStack);
  if (sites === undefined) return undefined;
  try {
    const keys: string[] = [];
    for (const site of sites) {
      if (site.isAsync?.() === true) break;
      const file = site.getFileName() ?? '';
      if (file === '' || file.startsWith('node:') || !file.includes('/') || isAgentFile(file) || !isProgramFile(file)) continue;
      keys.push(`${file}:${site.getEnclosingLineNumber?.() ?? 0}:${site.getEnclosingColumnNumber?.() ?? 0}:${site.getFunctionName() ?? ''}`);
    }
    return keys;
  } catch {
    return undefined;
  }
}

/**
 * A key for the positions of the current stack's frames below the agent's (file and source offset
 * of each, over at least the frames {@link captureStack} with `maxFrames` reads): two stacks with
 * the same key format to the same frames. Read from CallSites, with nothing formatted: ~25 µs in a
 * busy program's async stack (V8 finding each optimized frame's position), against ~40 µs to
 * format and parse it. Undefined when CallSites cannot be read, or when a frame's file does not say
 * where it is (code run by `eval`: two evaluated sources could share a name and an offset).
 */
export function stackKey(maxFrames = 24): string | undefined {
  // As many frames as captureStack reads, with fewer of the agent's above them: never fewer of the program's.
  const sites = callSites(maxFrames + 10, stackKey);
  if (sites === undefined) return undefined;
  try {
    let key = '';
    for (const site of sites) {
      if (typeof site.getPosition !== 'function' || site.isEval?.() === true) return undefined;
      const file = site.getFileName() ?? '';
      if (isAgentFile(file)) continue;
      key += `${file}\u0000${site.getPosition()}${site.isAsync?.() === true ? 'a' : ''}\n`;
    }
    return key;
  } catch {
    return undefined;
  }
}

/**
 * V8's CallSite objects of the stack below `below`, up to `limit`, with nothing formatted; undefined
 * when they cannot be read (the program replaced Error, or froze it).
 */
function callSites(limit: number, below: (...args: never[]) => unknown): CallSiteLike[] | undefined {
  const own = Object.prototype.hasOwnProperty.call(OriginalError, 'prepareStackTrace');
  const saved = OriginalError.prepareStackTrace;
  try {
    OriginalError.prepareStackTrace = (_error, sites) => sites;
    const holder: { stack?: unknown } = {};
    withStackLimit(limit, () => OriginalError.captureStackTrace(holder, below));
    const sites = holder.stack;
    return Array.isArray(sites) ? (sites as CallSiteLike[]) : undefined;
  } catch {
    return undefined;
  } finally {
    try {
      if (own) OriginalError.prepareStackTrace = saved;
      else delete (OriginalError as { prepareStackTrace?: unknown }).prepareStackTrace;
    } catch {
      // frozen
    }
  }
}

/** The frames of a stack taken by {@link captureUnformatted}, without the agent's. */
export function framesOf(unformatted: { stack?: unknown }): StackFrames {
  try {
    return parseFrames(String(unformatted.stack ?? '')).filter((frame) => !isAgentFile(frame.file));
  } catch {
    return [];
  }
}

function rawStack(limit: number): string {
  return withStackLimit(limit, () => String(new OriginalError().stack ?? '')) ?? '';
}

/** Runs `take` with Error.stackTraceLimit at `limit` (a frozen Error keeps its own), then puts it back; undefined when `take` throws. */
function withStackLimit<T>(limit: number, take: () => T): T | undefined {
  const saved = OriginalError.stackTraceLimit;
  try {
    OriginalError.stackTraceLimit = limit;
  } catch {
    // a frozen Error: take what the limit gives
  }
  try {
    return take();
  } catch {
    return undefined;
  } finally {
    try {
      OriginalError.stackTraceLimit = saved;
    } catch {
      // frozen
    }
  }
}

/** Parses V8 stack text into frames (frames without a position, like native ones, are skipped). */
export function parseFrames(text: string): StackFrames {
  const frames: StackFrames = [];
  for (const line of text.split('\n')) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    let functionName = match[1];
    if (functionName !== undefined && functionName.startsWith('async ')) functionName = functionName.slice(6);
    // `at async file:///x.mjs:5:3`: an anonymous async frame has no parentheses, so the marker lands on the file.
    const file = match[2].startsWith('async ') ? match[2].slice(6) : match[2];
    const frame: SourceSite = { file, line: Number(match[3]), column: Number(match[4]) };
    if (functionName) frame.functionName = functionName;
    frames.push(frame);
  }
  return frames;
}

/** The current stack, innermost first, without the agent's frames. */
export function captureStack(maxFrames = 24): StackFrames {
  // Room for the agent's own frames above the caller's (withStackLimit's two among them).
  return parseFrames(rawStack(maxFrames + 10))
    .filter((frame) => !isAgentFile(frame.file))
    .slice(0, maxFrames);
}

/** The first frame of the program itself (not the agent, not Node's internals). */
export function userSite(stack: StackFrames): SourceSite | undefined {
  return stack.find((frame) => !frame.file.startsWith('node:') && !frame.file.startsWith('internal/'));
}

/**
 * Removes the agent's frames from an error's stack text. Used on uncaught errors only, so the
 * crash output is the one the program prints without the agent.
 */
export function stripAgentFrames(error: unknown): void {
  try {
    if (!learned) learnAgentFrames();
    if (agentFile === undefined || typeof error !== 'object' || error === null) return;
    const stack = (error as { stack?: unknown }).stack;
    if (typeof stack !== 'string') return;
    const lines = stack.split('\n');
    const kept = lines.filter((line) => {
      const match = FRAME.exec(line);
      return match === null || !isAgentFile(match[2]);
    });
    if (kept.length !== lines.length) (error as { stack: string }).stack = kept.join('\n');
  } catch {
    // a frozen error keeps its stack
  }
}

/**
 * Raises Error.stackTraceLimit by one for the duration of a wrapped call, so an error created
 * inside keeps as many of the program's frames as without the agent's wrapper frame. Returns the
 * value to restore, or undefined when nothing was changed.
 */
export function makeRoomForWrapperFrame(): number | undefined {
  try {
    const saved = OriginalError.stackTraceLimit;
    if (typeof saved !== 'number' || !(saved > 0) || saved === Infinity) return undefined;
    OriginalError.stackTraceLimit = saved + 1;
    return saved;
  } catch {
    return undefined;
  }
}

/** Undoes {@link makeRoomForWrapperFrame}. */
export function restoreStackLimit(saved: number | undefined): void {
  if (saved === undefined) return;
  try {
    OriginalError.stackTraceLimit = saved;
  } catch {
    // frozen meanwhile
  }
}

/** An error as the protocol carries it. */
export function describeError(error: unknown): { name: string; message: string; stack?: StackFrames } {
  try {
    if (typeof error === 'object' && error !== null) {
      const e = error as { name?: unknown; message?: unknown; stack?: unknown };
      const info: { name: string; message: string; stack?: StackFrames } = {
        name: typeof e.name === 'string' ? e.name : 'Error',
        message: typeof e.message === 'string' ? e.message : '',
      };
      if (typeof e.stack === 'string') info.stack = parseFrames(e.stack).filter((f) => !isAgentFile(f.file)).slice(0, 24);
      return info;
    }
    return { name: typeof error, message: String(error) };
  } catch {
    return { name: 'Error', message: '(unreadable)' };
  }
}
