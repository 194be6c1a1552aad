import type { SourceSite, StackFrames } from '../protocol/agentEvents';
import { AGENT_GLOBAL_KEY } from '../protocol/hubWire';
import type Protocol from 'devtools-protocol';
import { CdpConnection, type CdpClient, type CdpError, type CdpSession } from './cdpConnection';

/** Options of {@link takeThreadDump}. */
export interface ThreadDumpOptions {
  /**
   * Bound on the whole dump, connecting included (default 3000 ms). A thread that has not answered
   * by then is listed with an error instead of failing the dump.
   */
  timeoutMs?: number;
  /** Bound on opening the WebSocket (default: `timeoutMs`). */
  connectTimeoutMs?: number;
  /**
   * After `NodeWorker.enable` is answered, wait until no new worker attached for this long
   * (default 10 ms). Running workers are reported before the answer; this only catches workers
   * that were starting at that moment.
   */
  settleMs?: number;
  /** Include worker threads (default true). */
  workers?: boolean;
}

/** One thread of a {@link ThreadDump}. */
export interface ThreadDumpEntry {
  /** 0 for the main thread. */
  threadId: number;
  /** `main`, or the worker's `name` option ('' when it has none). */
  name: string;
  /** `main`, or the inspector's title `[worker <threadId>] <name>`. */
  title: string;
  /** Innermost first; 1-based lines; our own evaluation frames removed. Empty when the thread did not answer. */
  stack: StackFrames;
  /**
   * What the thread was doing when interrupted: `idle` (no JavaScript on the stack: its event loop
   * waits), `blocked` (in `Atomics.wait`), `running` (executing JavaScript, e.g. spinning).
   * Absent when it did not answer.
   */
  state?: 'idle' | 'running' | 'blocked';
  /** The native call a blocked thread is in (`Atomics.wait`). */
  blockedIn?: string;
  /** Where the frames came from: the agent's `stackNow()`, or V8's stack trace when the agent is absent. */
  via?: 'agent' | 'stack-trace';
  /** Why there is no stack: `no answer (blocked in a system call?)`, the worker exited, … */
  error?: string;
}

/** A stack of every thread of one process, like `jstack`. */
export interface ThreadDump {
  /** The process id, when any thread answered. */
  pid: number | null;
  /** The inspector URL the dump came from. */
  url: string;
  /** Epoch ms when the dump started. */
  takenAt: number;
  /** How long it took, connecting and disconnecting included. */
  tookMs: number;
  /** Main thread first, then workers by threadId. */
  threads: ThreadDumpEntry[];
  /** What could not be done, in words (workers unreachable, program exited during the dump). */
  notes: string[];
}

/** The error text for a thread that did not answer in time. */
export const NO_ANSWER = 'no answer (blocked in a system call?)';

/** sourceURL of our evaluations, so their frames can be told apart and removed. */
const INTERNAL_URL_PREFIX = 'gridlock-internal:';

/**
 * Runs in each thread. Takes V8's stack with the default formatter (a user's
 * `Error.prepareStackTrace` could change the format) and a high limit, restores both, and asks
 * the agent for its frames when it is loaded. Plain ES2020 that loads no module: it must run in
 * any thread, agent or not, even one still starting (where loading a built-in can break it; the
 * threadId comes from the worker's title instead).
 */
export const STACK_EXPRESSION = `(() => {
  const out = { pid: process.pid, raw: '', frames: undefined, agentError: undefined };
  const E = Error, limit = E.stackTraceLimit, prepare = E.prepareStackTrace;
  try { E.stackTraceLimit = 200; E.prepareStackTrace = undefined; out.raw = String(new E().stack); }
  catch (e) { out.raw = ''; }
  finally { try { E.stackTraceLimit = limit; E.prepareStackTrace = prepare; } catch {} }
  const api = globalThis[Symbol.for(${JSON.stringify(AGENT_GLOBAL_KEY)})];
  if (api && typeof api.stackNow === 'function') {
    try { const f = api.stackNow(); if (Array.isArray(f)) out.frames = f; } catch (e) { out.agentError = String(e && e.message || e); }
  }
  return out;
})()
//# sourceURL=${INTERNAL_URL_PREFIX}thread-dump`;

/** What {@link STACK_EXPRESSION} returns. */
interface ProbeValue {
  pid?: number;
  raw: string;
  frames?: StackFrames;
  agentError?: string;
}

/** Frames of a V8 stack string, and the innermost frame's text (also native ones like `Atomics.wait (<anonymous>)`). */
export interface ParsedStack {
  frames: StackFrames;
  /** The innermost frame as V8 wrote it, after our own frames; undefined when the stack is empty. */
  top?: string;
}

/**
 * Parses V8's `Error.stack` text: `    at fn (file:line:col)`, `    at file:line:col`,
 * `    at async fn (…)`, eval frames. Frames without a position (`Atomics.wait (<anonymous>)`,
 * `native`) are left out of `frames` but show in `top`. Our own evaluation frames are removed.
 */
export function parseV8Stack(raw: string): ParsedStack {
  const frames: SourceSite[] = [];
  let top: string | undefined;
  for (const line of raw.split('\n')) {
    const m = /^\s+at (.*)$/.exec(line);
    if (!m) continue;
    const text = m[1];
    if (text.includes(INTERNAL_URL_PREFIX)) continue;
    top ??= text;
    const site = parseFrame(text);
    if (site) frames.push(site);
  }
  return { frames, top };
}

function parseFrame(text: string): SourceSite | undefined {
  let body = text.replace(/^async /, '');
  let functionName: string | undefined;
  const named = /^(.*?) \((.*)\)$/.exec(body);
  if (named) {
    functionName = named[1];
    body = named[2];
  }
  // `eval at f (file:1:2), <anonymous>:3:4`: the position inside the eval'd code is the last part.
  if (body.startsWith('eval at ')) body = body.slice(body.lastIndexOf(', ') + 2);
  const pos = /^(.*):(\d+):(\d+)$/.exec(body);
  if (!pos) return undefined;
  const site: SourceSite = { file: pos[1], line: Number(pos[2]), column: Number(pos[3]) };
  if (functionName) site.functionName = functionName;
  return site;
}

/** Drops our evaluation's frames from frames the agent returned. */
function withoutInternal(frames: StackFrames): StackFrames {
  return frames.filter((f) => typeof f?.file === 'string' && !f.file.startsWith(INTERNAL_URL_PREFIX));
}

interface ThreadIdentity {
  threadId: number;
  name: string;
  title: string;
}

/** Asks one thread for its stack; never throws: failures become `error`. */
async function probe(client: CdpClient, identity: ThreadIdentity, timeoutMs: number): Promise<ThreadDumpEntry & { pid?: number }> {
  let response: Protocol.Runtime.EvaluateResponse;
  try {
    response = await client.send('Runtime.evaluate', { expression: STACK_EXPRESSION, returnByValue: true, silent: true }, { timeoutMs });
  } catch (error) {
    const cdp = error as CdpError;
    const why =
      cdp.kind === 'timeout' ? NO_ANSWER : cdp.kind === 'detached' ? 'the worker exited during the dump' : cdp.kind === 'closed' ? cdp.detail : `the stack could not be taken: ${cdp.detail || cdp.message}`;
    return { ...identity, stack: [], error: why };
  }
  if (response.exceptionDetails) {
    const what = response.exceptionDetails.exception?.description ?? response.exceptionDetails.text;
    return { ...identity, stack: [], error: `the stack could not be taken: ${what.split('\n')[0]}` };
  }
  const value = response.result.value as ProbeValue | undefined;
  if (!value || typeof value.raw !== 'string') return { ...identity, stack: [], error: 'the stack could not be taken: unexpected answer' };
  const parsed = parseV8Stack(value.raw);
  const fromAgent = Array.isArray(value.frames) ? withoutInternal(value.frames) : undefined;
  const entry: ThreadDumpEntry & { pid?: number } = {
    ...identity,
    stack: fromAgent ?? parsed.frames,
    via: fromAgent ? 'agent' : 'stack-trace',
    pid: typeof value.pid === 'number' ? value.pid : undefined,
  };
  if (parsed.top === undefined) entry.state = 'idle';
  else if (/^Atomics\.wait\b/.test(parsed.top)) {
    entry.state = 'blocked';
    entry.blockedIn = 'Atomics.wait';
  } else entry.state = 'running';
  return entry;
}

/**
 * Takes a stack of every thread of the process behind `wsUrl`, then disconnects.
 *
 * Everything goes out in one pipelined burst (a sequential round trip to a worker costs ~44 ms):
 * the main thread's stack, `NodeWorker.enable`, and each worker's stack as soon as it attaches.
 * `Runtime.evaluate` answers while a thread is blocked in `Atomics.wait` or spinning; a thread in a
 * system call does not answer and gets {@link NO_ANSWER}. Before disconnecting, every worker
 * session is detached: a client that leaves worker sessions attached can keep a process from
 * exiting (PLATFORM-FACTS "Hazard"). Rejects only when the inspector cannot be reached.
 */
export async function takeThreadDump(wsUrl: string, options: ThreadDumpOptions = {}): Promise<ThreadDump> {
  const takenAt = Date.now();
  const timeoutMs = options.timeoutMs ?? 3000;
  const connection = await CdpConnection.connect(wsUrl, { connectTimeoutMs: Math.min(options.connectTimeoutMs ?? timeoutMs, timeoutMs), defaultTimeoutMs: timeoutMs });
  const notes: string[] = [];
  // A program that exits during the dump waits for us to disconnect ("Waiting for the debugger
  // to disconnect..."): let Node tell us, and let go at once.
  connection.on('NodeRuntime.waitingForDisconnect', () => {
    notes.push('the program exited during the dump');
    connection.close();
  });
  void connection.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true }).catch(() => undefined);
  let dump: ThreadDump;
  try {
    dump = await dumpThreads(connection, { ...options, timeoutMs: Math.max(1, takenAt + timeoutMs - Date.now()) });
  } finally {
    await disconnect(connection);
  }
  dump.url = wsUrl;
  dump.takenAt = takenAt;
  dump.notes.unshift(...notes);
  dump.tookMs = Date.now() - takenAt;
  return dump;
}

/**
 * The dump itself, over a connection the caller owns (an attachment's, or a fake in tests): probes
 * the main thread and the worker sessions already attached, and unless `enableWorkers` is false
 * sends `NodeWorker.enable` and probes each worker it reports. Leaves sessions attached and the
 * connection open. Never rejects for a thread that does not answer.
 */
export async function dumpThreads(connection: CdpConnection, options: ThreadDumpOptions & { enableWorkers?: boolean } = {}): Promise<ThreadDump> {
  const takenAt = Date.now();
  const deadline = takenAt + (options.timeoutMs ?? 3000);
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const notes: string[] = [];
  const probes: Array<Promise<ThreadDumpEntry & { pid?: number }>> = [probe(connection, { threadId: 0, name: 'main', title: 'main' }, remaining())];
  if (options.workers !== false) {
    const probed = new Set<string>();
    const probeSession = (session: CdpSession): void => {
      if (probed.has(session.sessionId)) return;
      probed.add(session.sessionId);
      probes.push(probe(session, { threadId: session.threadId ?? -1, name: session.workerName, title: session.workerInfo.title }, remaining()));
    };
    for (const session of connection.sessions()) probeSession(session);
    if (options.enableWorkers !== false) await collectWorkers(connection, probeSession, options.settleMs ?? 10, remaining, notes);
  }
  const entries = await Promise.all(probes);
  const pid = entries.find((e) => typeof e.pid === 'number')?.pid ?? null;
  const threads = entries.map(({ pid: _pid, ...entry }) => entry);
  const [main, ...workers] = threads;
  workers.sort((a, b) => a.threadId - b.threadId);
  return { pid, url: connection.name, takenAt, tookMs: Date.now() - takenAt, threads: [main, ...workers], notes };
}

/** Enables NodeWorker, probes each worker as it attaches, and returns once the set has settled. */
async function collectWorkers(connection: CdpConnection, probeSession: (session: CdpSession) => void, settleMs: number, remaining: () => number, notes: string[]): Promise<void> {
  let lastAttach = Date.now();
  const sub = connection.onSession((session: CdpSession) => {
    lastAttach = Date.now();
    probeSession(session);
  });
  try {
    await connection.send('NodeWorker.enable', { waitForDebuggerOnStart: false }, { timeoutMs: remaining() });
    // Quiet period: re-armed by each attach, bounded by the deadline.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const wait = Math.min(lastAttach + settleMs - Date.now(), remaining() - 1);
        if (wait <= 0 || connection.ended) resolve();
        else setTimeout(check, wait);
      };
      check();
    });
  } catch (error) {
    const cdp = error as CdpError;
    notes.push(cdp.kind === 'timeout' ? `workers could not be listed: ${NO_ANSWER.replace('no answer', 'the main thread did not answer')}` : `workers could not be listed: ${cdp.detail || cdp.message}`);
  } finally {
    sub.dispose();
  }
}

/**
 * Detaches every worker session (pipelined, briefly awaited), then closes and waits until the
 * socket is gone, so the program is free when the dump returns.
 */
async function disconnect(connection: CdpConnection): Promise<void> {
  if (!connection.ended) {
    const sessions = connection.sessions();
    await Promise.allSettled(sessions.map((s) => s.detach({ timeoutMs: 500 })));
  }
  connection.close();
  await connection.closed;
}
