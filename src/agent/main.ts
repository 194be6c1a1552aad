/**
 * Gridlock agent entry. Preloaded into every thread of every Node process of the tree (NODE_OPTIONS
 * `--require`), or evaluated by the host through the inspector (attach). Whatever happens here must
 * never reach the program: everything is inside try/catch, every timer is unref'd, and without a hub
 * (or injected config) the agent does nothing at all.
 */
import type { HelloEvent } from '../protocol/agentEvents';
import type { InjectedAgentConfig } from '../protocol/hubWire';
import { builtin } from './builtins';
import type { BuiltinMap } from './builtins';
import { createClock, hrtimeMs } from './clock';
import { Channel, bindingSink, openFifoSink } from './channel';
import type { LineSink } from './channel';
import { AgentContext } from './context';
import { defineApi, isAgentLoaded } from './api';
import { installAtomicsHooks } from './atomics';
import { installChildHooks, installChildHooksOnLoad } from './children';
import { openInspector } from './inspectorHook';
import { installLifecycleHooks } from './lifecycle';
import { installLockTracking } from './locks/index';
import { PendingWaits, installOnceHook, promiseProbe } from './pending';
import { startSampler } from './sampler';
import { SharedBufferRegistry, findSharedBuffers } from './sharedBuffers';
import { CONFIG_DATA_KEY, SPAWN_DATA_KEY, installWorkerHooks, readSpawnData } from './workers';
import { HOOKS_THREAD_KEY } from './locks/discovery';

// Values from protocol/hubWire.ts, repeated: the agent may only import types from protocol.
const AGENT_VERSION = '0.1.0';
const HUB_ENV = 'GRIDLOCK_HUB';
const TOKEN_ENV = 'GRIDLOCK_TOKEN';
const SAMPLE_MS_ENV = 'GRIDLOCK_SAMPLE_MS';
const DEFAULT_SAMPLE_MS = 100;
const MIN_NODE_MAJOR = 20;
const AGENT_CONFIG_GLOBAL = '__gridlockConfig';

interface AgentConfig {
  via: 'preload' | 'attach';
  hub?: string;
  binding?: string;
  token: string;
  sampleMs: number;
}

function sampleMsFrom(value: unknown): number {
  const ms = Number(value);
  return Number.isFinite(ms) && ms >= 10 ? ms : DEFAULT_SAMPLE_MS;
}

function resolveConfig(): AgentConfig | undefined {
  // Node's own module-hooks thread (started by the agent on Node 20, locks/discovery.ts): not the program's.
  const threads = builtin('worker_threads');
  if (threads !== undefined && !threads.isMainThread && threads.getEnvironmentData(HOOKS_THREAD_KEY) === true) return undefined;
  const injected = (globalThis as Record<string, unknown>)[AGENT_CONFIG_GLOBAL] as InjectedAgentConfig | undefined;
  if (typeof injected === 'object' && injected !== null && typeof injected.binding === 'string') {
    return { via: 'attach', binding: injected.binding, token: '', sampleMs: sampleMsFrom(injected.sampleMs) };
  }
  const hub = process.env[HUB_ENV];
  if (typeof hub === 'string' && hub !== '') {
    return { via: 'preload', hub, token: process.env[TOKEN_ENV] ?? '', sampleMs: sampleMsFrom(process.env[SAMPLE_MS_ENV]) };
  }
  // A worker whose `env` option dropped the variables: its parent's agent left them in environment data.
  const workerThreads = builtin('worker_threads');
  if (workerThreads !== undefined && !workerThreads.isMainThread) {
    const data = workerThreads.getEnvironmentData(CONFIG_DATA_KEY) as Partial<AgentConfig> | undefined;
    if (typeof data === 'object' && data !== null && typeof data.hub === 'string') {
      return { via: 'preload', hub: data.hub, token: String(data.token ?? ''), sampleMs: sampleMsFrom(data.sampleMs) };
    }
  }
  return undefined;
}

/** Wall-clock ms minus monotonic ms, left by the thread that started this worker (saves loading perf_hooks, ≈0.7 ms). */
function inheritedClockOffset(workerThreads: NonNullable<ReturnType<typeof builtin<'worker_threads'>>>): number | undefined {
  try {
    const offset = (workerThreads.getEnvironmentData(CONFIG_DATA_KEY) as { clockOffsetMs?: unknown } | undefined)?.clockOffsetMs;
    return typeof offset === 'number' && Number.isFinite(offset) ? offset : undefined;
  } catch {
    return undefined;
  }
}

function mainScript(): string {
  if (process.execArgv.some((arg) => arg === '-e' || arg === '--eval' || arg === '-p' || arg === '--print' || arg.startsWith('--eval=') || arg.startsWith('--print='))) return '[eval]';
  return process.argv[1] ?? '[stdin]';
}

function openSink(config: AgentConfig): LineSink | undefined {
  if (config.binding !== undefined) return bindingSink(config.binding);
  const fs = builtin('fs');
  return fs !== undefined && config.hub !== undefined ? openFifoSink(fs, config.hub) : undefined;
}

/** Node older than the agent supports: one hello per thread saying so, and nothing installed. */
function announceTooOld(config: AgentConfig): void {
  const sink = openSink(config);
  if (sink === undefined) return;
  const workerThreads = builtin('worker_threads');
  const threadId = workerThreads?.threadId ?? 0;
  const isMainThread = workerThreads?.isMainThread ?? true;
  const hello: HelloEvent = {
    type: 'hello',
    ts: Date.now(),
    pid: process.pid,
    ppid: process.ppid,
    threadId,
    isMainThread,
    name: isMainThread ? 'main' : '',
    script: isMainThread ? mainScript() : '[worker]',
    argv: process.argv.slice(0, 16),
    execPath: process.execPath,
    nodeVersion: process.version,
    tooOld: true,
    via: config.via,
  };
  sink.write(`${JSON.stringify({ k: config.token, p: process.pid, t: threadId, s: 0, e: [hello] })}\n`);
  sink.close();
}

function start(config: AgentConfig): void {
  const workerThreads = builtin('worker_threads');
  const timers = builtin('timers');
  const util = builtin('util');
  if (workerThreads === undefined || timers === undefined || util === undefined) return;
  // Timestamps: the monotonic clock plus the wall-clock offset, the same in every thread and process.
  let clockOffsetMs = workerThreads.isMainThread ? undefined : inheritedClockOffset(workerThreads);
  const startPerformance = clockOffsetMs === undefined ? builtin('perf_hooks')?.performance : undefined;
  if (startPerformance !== undefined) clockOffsetMs = startPerformance.timeOrigin + startPerformance.now() - hrtimeMs();
  if (clockOffsetMs === undefined) return;
  const offset = clockOffsetMs;
  const sink = openSink(config);
  if (sink === undefined) return;

  const clock = createClock(offset);
  if (startPerformance !== undefined) clock.usePerformance(startPerformance);
  const now = clock.now;
  const sleepCell = new Int32Array(new SharedArrayBuffer(4));
  const originalWait = Atomics.wait;
  const sleep = (ms: number): void => void originalWait(sleepCell, 0, 0, ms);
  const isMainThread = workerThreads.isMainThread;
  const threadId = workerThreads.threadId;
  const channel = new Channel(sink, { token: config.token, pid: process.pid, threadId }, timers, sleep, now);
  const context = new AgentContext({ via: config.via, pid: process.pid, threadId, isMainThread }, channel, now);
  defineApi(AGENT_VERSION, () => context);
  const notes = context.notes;
  const attempt = (what: string, install: () => void): void => {
    try {
      install();
    } catch (error) {
      notes.push(`${what} not tracked: ${(error as Error)?.message ?? 'unknown error'}`);
    }
  };

  const pending = new PendingWaits(promiseProbe(util));
  const buffers = new SharedBufferRegistry(`${process.pid}:${threadId}`);
  const spawnData = isMainThread ? undefined : readSpawnData(workerThreads);
  if (!isMainThread) {
    attempt('workerData buffers', () => {
      workerThreads.setEnvironmentData(SPAWN_DATA_KEY, undefined); // not inherited by this worker's own workers
      for (const { path, buffer } of findSharedBuffers(workerThreads.workerData, 'workerData', util.types.isProxy)) buffers.adopt(buffer, spawnData?.buffers[path], path);
    });
  }

  const events = builtin('events');
  attempt('Atomics.wait', () => installAtomicsHooks(context, buffers, pending));
  // Notes found later (a library version not recognised) go out with hello sent again.
  const lateNote = (note: string): void => {
    notes.push(note);
    if (context.hello === undefined) return;
    const again: HelloEvent = { ...context.hello, ts: now(), notes: notes.slice() };
    context.hello = again;
    channel.send(again);
  };
  attempt('locks', () => void installLockTracking(context, buffers, pending, lateNote));
  attempt('worker_threads', () => installWorkerHooks(context, { worker_threads: workerThreads, events: events!, util }, buffers));
  // child_process is patched when somebody loads it (installChildHooksOnLoad), else at once.
  const moduleBuiltin = builtin('module');
  let childHooksDeferred = false;
  if (moduleBuiltin !== undefined && events !== undefined) {
    attempt('child_process', () => {
      childHooksDeferred = installChildHooksOnLoad(context, { util, events, module: moduleBuiltin }, () => builtin('child_process'), lateNote);
    });
  }
  if (!childHooksDeferred) attempt('child_process', () => installChildHooks(context, { child_process: builtin('child_process')!, util, events: events! }));
  attempt('events.once', () => installOnceHook(context, events!, pending));
  attempt('exit', () => installLifecycleHooks(context, pending, () => (isMainThread ? undefined : channel.close())));
  if (config.via === 'preload' && config.hub !== undefined) {
    attempt('worker configuration', () => workerThreads.setEnvironmentData(CONFIG_DATA_KEY, { hub: config.hub, token: config.token, sampleMs: config.sampleMs, clockOffsetMs: offset }));
  }
  // `import { Worker } from 'node:worker_threads'` and friends see the patched functions.
  attempt('ES module exports', () => moduleBuiltin!.syncBuiltinESMExports());

  const hello: HelloEvent = {
    type: 'hello',
    ts: now(),
    pid: process.pid,
    ppid: process.ppid,
    threadId,
    isMainThread,
    name: isMainThread ? 'main' : spawnData?.name ?? '',
    script: isMainThread ? mainScript() : spawnData?.script ?? '[worker]',
    argv: process.argv,
    execPath: process.execPath,
    nodeVersion: process.version,
    via: config.via,
  };
  if (isMainThread) {
    const inspector = builtin('inspector');
    const url =
      inspector === undefined
        ? undefined
        : openInspector(inspector, notes, (reopenedUrl) => {
            const again: HelloEvent = { ...hello, ts: now(), notes: [...notes, 'the program opened the inspector itself'] };
            if (reopenedUrl !== undefined) again.inspectorUrl = reopenedUrl;
            else delete again.inspectorUrl;
            context.hello = again;
            channel.send(again);
            channel.flush();
          });
    if (url !== undefined) hello.inspectorUrl = url;
  }
  if (notes.length > 0) hello.notes = notes.slice();
  context.hello = hello;
  channel.send(hello);
  channel.flush(); // the host learns the pid and inspector URL now, even if the loop never turns

  const parentPort = workerThreads.parentPort;
  const loadPerfHooks = (): BuiltinMap['perf_hooks'] | undefined => {
    const perfHooks = builtin('perf_hooks');
    if (perfHooks !== undefined) clock.usePerformance(perfHooks.performance);
    return perfHooks;
  };
  attempt('samples', () => startSampler(context, { timers }, loadPerfHooks, config.sampleMs, parentPort));
}

(function gridlockAgent(): void {
  try {
    if (isAgentLoaded()) return;
    const config = resolveConfig();
    if (config === undefined) return;
    if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
      defineApi(AGENT_VERSION, () => undefined);
      announceTooOld(config);
      return;
    }
    start(config);
  } catch {
    // The program runs as if the agent were not there.
  }
})();
