/**
 * Periodic state of a thread whose loop turns: event-loop utilisation, wake-ups, CPU, heap, and
 * what keeps the loop alive — split into wake sources outside the process tree (`external`: any
 * one means the thread can still progress by itself) and waits only the tree can end (`internal`).
 * Anything not recognised counts as external, so it can never make a stall appear.
 */
import type { InternalWait, SampleEvent } from '../protocol/agentEvents';
import type { BuiltinMap } from './builtins';
import type { AgentContext } from './context';
import { childStdio, liveChildren } from './children';
import { workerPorts } from './workers';

/** hubWire.HEARTBEAT_MS. */
const HEARTBEAT_MS = 500;
const RUNNING_ELU = 0.05;
const MAX_EXTERNAL = 16;

/** getActiveResourcesInfo names that are handles: those are classified from the handle objects instead. */
const HANDLE_RESOURCES = new Set([
  'TCPServerWrap', 'TCPSocketWrap', 'TCPWrap', 'PipeServerWrap', 'PipeWrap', 'PipeSocketWrap', 'TTYWrap', 'UDPWrap',
  'ProcessWrap', 'MessagePort', 'FSEventWrap', 'StatWatcher', 'SignalWrap',
]);
const REQUEST_NAMES: Record<string, string> = {
  Timeout: 'timer',
  Immediate: 'immediate',
  FSReqCallback: 'fs request',
  FSReqPromise: 'fs request',
  FileHandleCloseReq: 'fs request',
  GetAddrInfoReqWrap: 'dns request',
  GetNameInfoReqWrap: 'dns request',
  QueryReqWrap: 'dns request',
  ConnectWrap: 'connect',
  TCPConnectWrap: 'connect',
  PipeConnectWrap: 'connect',
  WriteWrap: 'write request',
  ShutdownWrap: 'write request',
  SendWrap: 'udp send',
};

interface HandleLike {
  constructor?: { name?: string };
  remoteAddress?: unknown;
  remotePort?: unknown;
  address?: () => unknown;
  _handle?: { constructor?: { name?: string } } | null;
}

export interface WakeSources {
  external: string[];
  internal: InternalWait[];
}

export function classifyWakeSources(context: AgentContext, parentPort: unknown): WakeSources {
  const external = new Set<string>();
  const internal = new Map<string, InternalWait>();
  const children = new Map<number, { pid: number; ipc: boolean; stdio: boolean }>();
  const child = (pid: number): { pid: number; ipc: boolean; stdio: boolean } => {
    let entry = children.get(pid);
    if (entry === undefined) {
      entry = { pid, ipc: false, stdio: false };
      children.set(pid, entry);
    }
    return entry;
  };
  let rawPipes = 0;

  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  for (const value of handles) {
    const handle = value as HandleLike;
    // By fd, not `process.stdin`: that getter creates the stream (and its handle) on first use.
    const fd = (handle as { fd?: unknown }).fd;
    if (fd === 1 || fd === 2) continue; // stdout and stderr: writing never wakes the loop
    if (fd === 0) {
      external.add('stdin');
      continue;
    }
    const stdioOf = childStdio.get(handle as object);
    if (stdioOf !== undefined) {
      child(stdioOf).stdio = true;
      continue;
    }
    const type = handle.constructor?.name ?? 'handle';
    if (type === 'ChildProcess') {
      const pid = (handle as { pid?: unknown }).pid;
      if (typeof pid === 'number') child(pid).ipc ||= liveChildren.get(pid)?.ipc === true;
      continue;
    }
    if (type === 'MessagePort') {
      const ofWorker = workerPorts.get(handle as object);
      if (ofWorker !== undefined) {
        internal.set(`worker:${ofWorker}`, { kind: 'worker', threadId: ofWorker });
        continue;
      }
      const description = handle === parentPort ? 'parentPort' : 'MessagePort';
      internal.set(`port:${description}`, { kind: 'port', description });
      continue;
    }
    if (type === 'Pipe') {
      rawPipes++; // an IPC channel (the only bare Pipe handle Node lists)
      continue;
    }
    const native = handle._handle?.constructor?.name;
    if (type === 'Server') {
      external.add(`server ${describeAddress(handle)}`);
    } else if (native === 'TCP' && typeof handle.remoteAddress === 'string') {
      external.add(`tcp ${handle.remoteAddress}:${String(handle.remotePort)}`);
    } else if (native === 'TCP') {
      external.add('tcp');
    } else if (native === 'Pipe') {
      external.add('pipe');
    } else if (native === 'UDP') {
      external.add('udp');
    } else {
      external.add(type);
    }
  }

  // Bare IPC pipes: one is the parent's channel when this process has one; the others are children's.
  const ipcChildren = [...liveChildren].filter(([, c]) => c.ipc && c.process.connected === true);
  const channel = (process as { channel?: unknown }).channel;
  if (rawPipes > 0 && channel !== undefined && process.connected === true && rawPipes > ipcChildren.length) {
    internal.set('parent-ipc', { kind: 'parent-ipc', ppid: process.ppid });
    rawPipes--;
  }
  for (const [pid] of ipcChildren) {
    if (rawPipes-- <= 0) break;
    child(pid).ipc = true;
  }
  if (rawPipes > 0) external.add('ipc pipe');

  for (const name of process.getActiveResourcesInfo()) {
    if (HANDLE_RESOURCES.has(name)) continue;
    external.add(REQUEST_NAMES[name] ?? name);
  }

  for (const record of context.workers.values()) {
    if (record.exited === undefined && record.refed) internal.set(`worker:${record.created.threadId}`, { kind: 'worker', threadId: record.created.threadId });
  }
  for (const entry of children.values()) internal.set(`child:${entry.pid}`, { kind: 'child', ...entry });

  const sorted = [...external].sort();
  if (sorted.length > MAX_EXTERNAL) sorted.splice(MAX_EXTERNAL, sorted.length, `+${sorted.length - MAX_EXTERNAL} more`);
  return { external: sorted, internal: [...internal.values()] };
}

function describeAddress(server: HandleLike): string {
  try {
    const address = server.address?.();
    if (typeof address === 'string') return address;
    if (typeof address === 'object' && address !== null) return `:${String((address as { port?: unknown }).port)}`;
  } catch {
    // not listening yet
  }
  return '(not listening)';
}

/** Starts the per-thread sampler on an unref'd interval. */
export function startSampler(context: AgentContext, builtins: Pick<BuiltinMap, 'timers'>, loadPerfHooks: () => BuiltinMap['perf_hooks'] | undefined, sampleMs: number, parentPort: unknown): void {
  // perf_hooks is loaded at the first tick (≈0.7 ms of start-up a short-lived worker never pays);
  // the first window then runs from the thread's start.
  let performance: BuiltinMap['perf_hooks']['performance'] | undefined;
  const threadCpu = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  const cpu = typeof threadCpu === 'function' ? threadCpu : context.identity.isMainThread ? process.cpuUsage : undefined;
  const uvEvents = (): number => {
    const info = (performance?.nodeTiming as { uvMetricsInfo?: { events?: number } } | undefined)?.uvMetricsInfo;
    return typeof info?.events === 'number' ? info.events : 0;
  };
  let previousElu: ReturnType<BuiltinMap['perf_hooks']['performance']['eventLoopUtilization']> | undefined;
  let previousEvents = 0;
  let lastKey = '';
  let lastSent = 0;
  let broken = false;

  const tick = (): void => {
    if (broken) return;
    try {
      performance ??= loadPerfHooks()?.performance;
      if (performance === undefined) throw new Error('no perf_hooks');
      const elu = performance.eventLoopUtilization();
      const window = previousElu === undefined ? elu : performance.eventLoopUtilization(elu, previousElu);
      previousElu = elu;
      const events = uvEvents();
      const wakeups = Math.max(0, events - previousEvents);
      previousEvents = events;
      const sources = classifyWakeSources(context, parentPort);
      const state: SampleEvent['state'] = wakeups > 0 || window.utilization > RUNNING_ELU ? 'running' : 'idle';
      const key = JSON.stringify([state, sources.external, sources.internal]);
      const now = context.now();
      if (key === lastKey && now - lastSent < HEARTBEAT_MS) return;
      lastKey = key;
      lastSent = now;
      const sample: SampleEvent = {
        type: 'sample',
        ts: now,
        state,
        elu: Math.round(window.utilization * 1000) / 1000,
        wakeups,
        heapUsed: process.memoryUsage().heapUsed, // this thread's heap (no v8 module to load)
        external: sources.external,
        internal: sources.internal,
      };
      if (cpu !== undefined) {
        const usage = cpu.call(process);
        sample.cpuUs = usage.user + usage.system;
      }
      context.lastSample = sample;
      context.emit(sample);
    } catch {
      broken = true; // a failing sampler stops, silently
    }
  };
  const interval = builtins.timers.setInterval(tick, sampleMs);
  interval.unref();
}
