import type { AgentEvent, StackFrames } from './agentEvents';
import type { ResourceEvent } from './resourceEvents';

/**
 * How the agent reaches the host.
 *
 * Launch mode: the host creates a private directory (0700) holding a FIFO, and starts the program
 * with `HUB_ENV` set to `<fifo path>` and `TOKEN_ENV` to a random token. Every thread of every
 * process opens the FIFO write-only and non-blocking and writes {@link HubLine}s synchronously, so
 * events leave even right before a thread blocks, from workers whose event loop never turns, and
 * from `exit` handlers. Each line is at most {@link MAX_LINE_BYTES} bytes, below PIPE_BUF, so lines
 * from many writers never interleave. The host drops (and logs) lines whose token is wrong.
 *
 * Why not a socket or the inspector: a socket needs the event loop to connect, and every inspector
 * WebSocket client makes Node print "Debugger attached." to the program's stderr and wait for it to
 * disconnect at exit. The inspector is only connected for thread dumps and `attach`.
 *
 * Attach mode: the host adds the Runtime binding {@link AGENT_BINDING_NAME} and injects the agent;
 * the agent calls the binding with the same JSON lines (token empty).
 */
export interface HubLine {
  /** The token from `TOKEN_ENV`. */
  k: string;
  /** pid of the writing process. */
  p: number;
  /** threadId of the writing thread (0: main). */
  t: number;
  /** Per-thread line sequence number from 0: a gap means lines were lost. */
  s: number;
  /**
   * The events, oldest first. Every event's `ts` is epoch milliseconds from one clock shared by all
   * threads of the machine (`performance.timeOrigin + performance.now()`), so events of different
   * threads can be ordered by it.
   */
  e: Array<AgentEvent | ResourceEvent>;
}

/** Environment variable naming the hub FIFO. */
export const HUB_ENV = 'GRIDLOCK_HUB';
/** Environment variable holding the hub token. */
export const TOKEN_ENV = 'GRIDLOCK_TOKEN';
/** Environment variable: agent sampling interval in ms (default {@link DEFAULT_SAMPLE_MS}). */
export const SAMPLE_MS_ENV = 'GRIDLOCK_SAMPLE_MS';
/** Longest hub line in bytes, newline included (PIPE_BUF is 4096 on Linux). */
export const MAX_LINE_BYTES = 4000;
/** Default agent sampling interval. */
export const DEFAULT_SAMPLE_MS = 100;
/** A thread that turns its loop sends a sample at least this often, even when nothing changed. */
export const HEARTBEAT_MS = 500;
/** Oldest Node major the agent tracks. */
export const MIN_NODE_MAJOR = 20;

/** Name of the Runtime binding the agent calls in attach mode. */
export const AGENT_BINDING_NAME = '__gridlockEmit';
/** `Symbol.for` key of the agent's API object on `globalThis` (also the double-load guard). */
export const AGENT_GLOBAL_KEY = 'gridlock.agent';
/** Global the host sets before injecting the agent with Runtime.evaluate (attach mode). */
export const AGENT_CONFIG_GLOBAL = '__gridlockConfig';

/** Configuration the host passes to an injected agent. */
export interface InjectedAgentConfig {
  binding: string;
  sampleMs?: number;
}

/** What the agent exposes on `globalThis[Symbol.for(AGENT_GLOBAL_KEY)]`, for Runtime.evaluate. */
export interface AgentApi {
  /** Agent bundle version. */
  version: string;
  /** A full picture of this thread (hello, last sample, block state, workers and children seen), as events. */
  snapshot(): AgentEvent[];
  /** The thread's stack right now (interrupted frames when it is blocked or spinning). */
  stackNow(): StackFrames;
  /** Attach mode: start sending through the named Runtime binding. */
  useBinding(name: string): void;
}
