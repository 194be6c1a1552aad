import type { SourceSite, StackFrames } from './agentEvents';

/** Current report format version (`gridlock run --json FILE`). */
export const REPORT_VERSION = 1;

/** Kinds of findings (DESIGN.md "Findings"). */
export type FindingKind =
  | 'deadlock'
  | 'stall'
  | 'lock-order-inversion'
  | 'self-deadlock'
  | 'pool-starvation'
  | 'lock-held-too-long'
  | 'release-by-non-holder'
  | 'exit-while-holding'
  | 'tracking-partial';

/** How serious a finding is: deadlocks and stalls are errors; potential problems are warnings. */
export type FindingSeverity = 'error' | 'warning' | 'info';

/** One participant of a finding: a thread (and task) with what it does, where. */
export interface FindingParticipant {
  pid: number;
  threadId: number;
  /** The async task within the thread, when a task (not the thread) is the participant. */
  task?: string;
  /** Resource id (see {@link ReportResource}) the participant waits on or holds. */
  resource?: string;
  role: 'waits' | 'holds' | 'exited' | 'idle' | 'blocked' | 'running';
  /** One line about what this participant is doing. */
  detail: string;
  site?: SourceSite;
  stack?: StackFrames;
}

/** A problem Gridlock found. */
export interface Finding {
  /** Stable id: the same problem at the same sites gets the same id in every run. */
  id: string;
  kind: FindingKind;
  severity: FindingSeverity;
  /** One line. */
  message: string;
  /** Epoch ms when it was found. */
  time: number;
  /** Epoch ms when the condition began (the last thread fell asleep, the cycle closed), when known. */
  since?: number;
  participants: FindingParticipant[];
}

/** A thread in the report. */
export interface ReportThread {
  threadId: number;
  parentThreadId: number | null;
  name: string;
  script: string;
  state: 'running' | 'idle' | 'blocked' | 'exited' | 'unknown';
  exitCode: number | null;
  error?: { name: string; message: string };
  tracked: boolean;
  blockedOn?: string;
  site?: SourceSite;
}

/** A process in the report. */
export interface ReportProcess {
  pid: number;
  ppid: number | null;
  argv: string[];
  /** How its parent started it; null for the command gridlock ran. */
  startedBy: { method: string; site?: SourceSite } | null;
  node: boolean;
  tracked: boolean;
  nodeVersion?: string;
  exitCode: number | null;
  signal: string | null;
  /** Present when the process died of the signal gridlock sent it after a hang finding (`signal` is gridlock's, not the program's). */
  stoppedByGridlock?: true;
  threads: ReportThread[];
}

/** A lock, queue, pool, futex or channel (filled by the locks issue). */
export interface ReportResource {
  id: string;
  kind: string;
  library: string;
  name: string;
  site?: SourceSite;
  holders: FindingParticipant[];
  waiters: FindingParticipant[];
  /** Permits of a semaphore, concurrency of a queue, workers of a pool (when known). */
  capacity?: number;
  /** Queues and pools: items completed, from the last counters. */
  completed?: number;
  /** Pools that say where items run: the thread ids of the workers that ran them (same process). */
  workerThreadIds?: number[];
}

/** The whole report. */
export interface Report {
  version: typeof REPORT_VERSION;
  command: string[];
  exitCode: number | null;
  signal: string | null;
  /** Gridlock's own exit status (differs from exitCode when a deadlock or stall was found). */
  gridlockExitCode: number;
  startedAt: number;
  endedAt: number;
  processes: ReportProcess[];
  resources: ReportResource[];
  findings: Finding[];
  /** What could not be tracked, in words. */
  notes: string[];
}

/** Exit status of `gridlock run` when a deadlock or stall was found. */
export const EXIT_HANG_FOUND = 86;
/** Exit status for gridlock's own usage errors (bad option, bad config). */
export const EXIT_USAGE = 2;
/** Exit status when the command could not be found (as a shell does). */
export const EXIT_NOT_FOUND = 127;
/** Exit status when the command was found but could not be run (as a shell does). */
export const EXIT_NOT_EXECUTABLE = 126;
/** Exit status of `attach`/`dump` when the target cannot be reached. */
export const EXIT_UNREACHABLE = 69;
