/**
 * Events the agent (inside the user's program) sends to the host. One thread's events arrive in
 * the order the thread produced them; events of different threads are only ordered by `ts`.
 *
 * Wire: see {@link HubLine} (hub FIFO, launch mode) and `AGENT_BINDING_NAME` (attach mode).
 */

/** A source position. `file` is an absolute path or a URL (file://, node:); line and column are 1-based. */
export interface SourceSite {
  file: string;
  line: number;
  column: number;
  /** The function the position is in, when it has a name. */
  functionName?: string;
}

/** Stack frames, innermost first, with the agent's own frames removed. */
export type StackFrames = SourceSite[];

/** An error as the agent saw it (a worker's uncaught error, a failed spawn). */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: StackFrames;
}

/** How a child process was started, by the name of the `child_process` (or `cluster`) function. */
export type SpawnMethod =
  | 'spawn'
  | 'fork'
  | 'exec'
  | 'execFile'
  | 'spawnSync'
  | 'execSync'
  | 'execFileSync'
  | 'cluster';

/** A SharedArrayBuffer as one thread knows it. */
export interface SharedBufferRef {
  /** Unique within the process tree: `<pid>:<threadId>:<n>` of the thread that first saw it. */
  id: string;
  byteLength: number;
  /** Where the thread got it when known: `workerData.lock`, `message.buffer`, a variable name. */
  label?: string;
}

/** What a blocked thread is blocked on. */
export type BlockReason =
  | {
      kind: 'atomics.wait';
      buffer: SharedBufferRef;
      /** Element index in the typed array passed to Atomics.wait. */
      index: number;
      /** Byte offset of that element in the buffer: the futex address within the buffer. */
      byteOffset: number;
      value: number | string;
      /** Infinity is sent as null. */
      timeoutMs: number | null;
    }
  | {
      kind: 'sync-child';
      method: SpawnMethod;
      /** The command as the user wrote it (file and args, or the shell string). */
      command: string;
    };

/** Something a thread's event loop is waiting on that only another thread or process of the tree can satisfy. */
export type InternalWait =
  | { kind: 'port'; description: string }
  | { kind: 'worker'; threadId: number }
  | { kind: 'child'; pid: number; ipc: boolean; stdio: boolean }
  | { kind: 'parent-ipc'; ppid: number };

/** First event of every thread: who it is. */
export interface HelloEvent {
  type: 'hello';
  ts: number;
  pid: number;
  ppid: number;
  threadId: number;
  isMainThread: boolean;
  /** Worker name option, or `main`. */
  name: string;
  /** Entry script (path, URL or `[eval]`). */
  script: string;
  argv: string[];
  execPath: string;
  nodeVersion: string;
  /** Main thread only: the loopback inspector WebSocket URL, when the inspector could be opened. */
  inspectorUrl?: string;
  /** Set when the Node version is older than the agent supports: the agent then tracks nothing. */
  tooOld?: boolean;
  /** How this thread was found: preloaded with the program, or injected later by `attach`. */
  via: 'preload' | 'attach';
  /** Notes on what could not be tracked (frozen globals, a library version not recognised, …). */
  notes?: string[];
}

/** Periodic state of a thread whose event loop is turning (sent on change and as a heartbeat). */
export interface SampleEvent {
  type: 'sample';
  ts: number;
  /** `running`: the loop did work since the last sample; `idle`: it only waited. */
  state: 'running' | 'idle';
  /** Event-loop utilisation over the sample window, 0..1. */
  elu: number;
  /** I/O and message wake-ups (libuv events) since the previous sample. */
  wakeups: number;
  /** CPU time of this thread in µs (user + system), where the Node version offers it. */
  cpuUs?: number;
  heapUsed?: number;
  /** Wake sources outside the process tree: timers, sockets, servers, files, stdin. Any one means the thread can progress by itself. */
  external: string[];
  /** Wake sources that only the tree can trigger. */
  internal: InternalWait[];
}

/** The thread is about to block (sent synchronously, right before the blocking call). */
export interface BlockEvent {
  type: 'block';
  ts: number;
  on: BlockReason;
  site?: SourceSite;
  stack: StackFrames;
}

/** The blocking call returned. */
export interface UnblockEvent {
  type: 'unblock';
  ts: number;
  /** `ok`, `timed-out`, `not-equal` for Atomics.wait; the exit status for a sync child. */
  result: string;
  /** Sync children: the pid, exit code and signal of the child that ran. */
  child?: { pid: number; exitCode: number | null; signal: string | null };
}

/** This thread created a worker (seen by the creating thread). */
export interface WorkerCreatedEvent {
  type: 'worker-created';
  ts: number;
  threadId: number;
  name: string;
  script: string;
  site?: SourceSite;
  /** False when the worker will run without the agent (`execArgv` without it, `eval` code with `--import` only, …). */
  tracked: boolean;
  /** SharedArrayBuffers handed to the worker in workerData, by path. */
  sharedBuffers?: SharedBufferRef[];
}

/** A worker this thread created has exited (seen by the creating thread). */
export interface WorkerExitedEvent {
  type: 'worker-exited';
  ts: number;
  threadId: number;
  exitCode: number;
  error?: ErrorInfo;
}

/** This thread started a child process. */
export interface ChildSpawnedEvent {
  type: 'child-spawned';
  ts: number;
  pid: number;
  method: SpawnMethod;
  file: string;
  args: string[];
  /** True when it runs through a shell (`exec`, `shell: true`). */
  shell: boolean;
  ipc: boolean;
  site?: SourceSite;
}

/** A child process this thread started could not be started. */
export interface ChildFailedEvent {
  type: 'child-failed';
  ts: number;
  method: SpawnMethod;
  file: string;
  error: ErrorInfo;
  site?: SourceSite;
}

/** A child process this thread started has exited. */
export interface ChildExitedEvent {
  type: 'child-exited';
  ts: number;
  pid: number;
  exitCode: number | null;
  signal: string | null;
}

/** Something the thread awaited that was still pending when its event loop drained. */
export interface PendingWait {
  kind: 'atomics.waitAsync' | 'events.once' | 'top-level-await' | 'lock' | 'other';
  description: string;
  site?: SourceSite;
  stack?: StackFrames;
  since: number;
}

/** The thread's event loop has nothing left to do and it is about to exit. */
export interface DrainEvent {
  type: 'drain';
  ts: number;
  /** The exit code the thread will exit with (13: unsettled top-level await). */
  exitCode: number;
  pending: PendingWait[];
}

/** The thread itself is exiting. Last event of a thread. */
export interface ExitEvent {
  type: 'exit';
  ts: number;
  exitCode: number;
  error?: ErrorInfo;
}

/** Events were dropped because nobody could receive them (buffer full). */
export interface DroppedEvent {
  type: 'dropped';
  ts: number;
  count: number;
}

/** Every event the agent sends. */
export type AgentEvent =
  | HelloEvent
  | SampleEvent
  | BlockEvent
  | UnblockEvent
  | WorkerCreatedEvent
  | WorkerExitedEvent
  | ChildSpawnedEvent
  | ChildFailedEvent
  | ChildExitedEvent
  | DrainEvent
  | ExitEvent
  | DroppedEvent;

/** The agent event type names. */
export type AgentEventType = AgentEvent['type'];
