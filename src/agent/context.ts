/**
 * What one thread's agent knows: who it is, its channel, and the state `snapshot()` reports
 * (hello, last sample, current block, workers and children it started).
 */
import type {
  AgentEvent,
  BlockEvent,
  BlockReason,
  ChildExitedEvent,
  ChildSpawnedEvent,
  ErrorInfo,
  HelloEvent,
  SampleEvent,
  StackFrames,
  UnblockEvent,
  WorkerCreatedEvent,
  WorkerExitedEvent,
} from '../protocol/agentEvents';
import type { Channel } from './channel';
import { userSite } from './stacks';

/** Exited workers and children remembered for snapshots, beyond which the oldest are forgotten. */
const MAX_EXITED_RECORDS = 128;

export interface WorkerRecord {
  created: WorkerCreatedEvent;
  exited?: WorkerExitedEvent;
  /** False after `worker.unref()`: the worker no longer keeps this thread's loop alive. */
  refed: boolean;
  /** The worker's uncaught error, seen before its exit. */
  error?: ErrorInfo;
}

export interface ChildRecord {
  spawned: ChildSpawnedEvent;
  exited?: ChildExitedEvent;
  ipc: boolean;
}

export interface ThreadIdentity {
  via: 'preload' | 'attach';
  pid: number;
  threadId: number;
  isMainThread: boolean;
}

export class AgentContext {
  /** What could not be tracked, for hello. */
  readonly notes: string[] = [];
  hello: HelloEvent | undefined;
  lastSample: SampleEvent | undefined;
  currentBlock: BlockEvent | undefined;
  readonly workers = new Map<number, WorkerRecord>();
  readonly children = new Map<number, ChildRecord>();
  /** The thread's uncaught error, reported with its `exit`. */
  uncaughtError: ErrorInfo | undefined;
  exitSent = false;
  /** Sends delayed by throttling (queue counters), done at once when the thread exits. */
  readonly flushAtExit = new Set<() => void>();
  /** Sends held back until they prove worth it (lasting lock waits), made when the loop drains or the thread exits. */
  readonly beforeDrain = new Set<() => void>();
  /** Names for emitters the agent knows (`worker 3`, `child 1234`), used in pending-wait descriptions. */
  readonly labels = new WeakMap<object, string>();

  constructor(
    readonly identity: ThreadIdentity,
    readonly channel: Channel,
    readonly now: () => number,
  ) {}

  emit(event: AgentEvent): void {
    this.channel.send(event);
  }

  /** Sends `block` and writes it out synchronously: the thread stops turning right after. */
  block(on: BlockReason, stack: StackFrames): void {
    const event: BlockEvent = { type: 'block', ts: this.now(), on, stack };
    const site = userSite(stack);
    if (site) event.site = site;
    this.currentBlock = event;
    this.channel.send(event);
    this.channel.flush();
  }

  unblock(result: string, child?: UnblockEvent['child']): void {
    this.currentBlock = undefined;
    const event: UnblockEvent = { type: 'unblock', ts: this.now(), result };
    if (child) event.child = child;
    this.channel.send(event);
  }

  addWorker(record: WorkerRecord): void {
    this.workers.set(record.created.threadId, record);
    prune(this.workers, (r) => r.exited !== undefined);
  }

  addChild(record: ChildRecord): void {
    this.children.set(record.spawned.pid, record);
    prune(this.children, (r) => r.exited !== undefined);
  }
}

function prune<K, V>(map: Map<K, V>, isDone: (value: V) => boolean): void {
  if (map.size <= MAX_EXITED_RECORDS * 2) return;
  let excess = map.size - MAX_EXITED_RECORDS;
  for (const [key, value] of map) {
    if (excess <= 0) break;
    if (isDone(value)) {
      map.delete(key);
      excess--;
    }
  }
}
