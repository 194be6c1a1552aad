/**
 * The agent's way out: events are queued, packed into HubLines of at most MAX_LINE_BYTES (so each
 * write to the FIFO is atomic among many writers), and written synchronously — from a short
 * unref'd timer, and right away before the thread blocks or exits. What cannot be written now
 * (pipe full, no binding yet) waits in a bounded backlog; what falls out of it is counted and
 * reported in a `dropped` event.
 */
import type { AgentEvent } from '../protocol/agentEvents';
import type { BuiltinMap } from './builtins';

/** hubWire.MAX_LINE_BYTES (the agent may not import protocol values at run time). */
const MAX_LINE_BYTES = 4000;
const FLUSH_DELAY_MS = 20;
const MAX_BACKLOG_BYTES = 1 << 20;
/** Events queued without the loop turning (a thread spawning in a loop): written at once past this. */
const MAX_QUEUED_EVENTS = 256;
/** The shrink steps for an event too long for one line: longest string, longest array. */
const SHRINK_STEPS: Array<[number, number]> = [[1000, 24], [300, 12], [120, 6], [40, 3], [16, 1]];

/** Where lines go. `write` returns false when the line cannot be taken now (retry later). */
export interface LineSink {
  write(line: string): boolean;
  close(): void;
}

/** The hub FIFO, opened once per thread, write-only and non-blocking. */
export function openFifoSink(fs: BuiltinMap['fs'], path: string): LineSink | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined; // ENXIO (no reader), ENOENT, EACCES: tracking stays off
  }
  let open = true;
  return {
    write(line) {
      if (!open) return true;
      try {
        fs.writeSync(fd, line);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === 'EAGAIN') return false;
        open = false; // EPIPE: the host went away; stop writing, silently
        return true;
      }
    },
    close() {
      if (!open) return;
      open = false;
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}

/** Attach mode: a Runtime binding on globalThis (lines without the trailing newline). */
export function bindingSink(name: string): LineSink {
  return {
    write(line) {
      const fn = (globalThis as Record<string, unknown>)[name];
      if (typeof fn !== 'function') return false;
      (fn as (text: string) => void)(line.endsWith('\n') ? line.slice(0, -1) : line);
      return true;
    },
    close() {},
  };
}

interface PendingLine {
  text: string;
  /** Events the line stands for (a `dropped` event counts what it reports). */
  events: number;
}

export class Channel {
  private queue: AgentEvent[] = [];
  private backlog: PendingLine[] = [];
  private backlogBytes = 0;
  private dropped = 0;
  private seq = 0;
  private timer: { unref(): unknown } | undefined;
  private readonly prefix: string;

  constructor(
    private sink: LineSink,
    header: { token: string; pid: number; threadId: number },
    private readonly timers: Pick<BuiltinMap['timers'], 'setTimeout'>,
    private readonly sleep: (ms: number) => void,
    private readonly now: () => number,
  ) {
    this.prefix = `{"k":${JSON.stringify(header.token)},"p":${header.pid},"t":${header.threadId},"s":`;
  }

  /** Queues an event; it leaves within FLUSH_DELAY_MS if the loop turns, or at the next sync flush. */
  send(event: AgentEvent): void {
    this.queue.push(event);
    if (this.queue.length >= MAX_QUEUED_EVENTS) {
      this.flush();
      return;
    }
    if (this.timer === undefined) {
      try {
        this.timer = this.timers.setTimeout(() => {
          this.timer = undefined;
          try {
            this.flush();
          } catch {
            // never into the program
          }
        }, FLUSH_DELAY_MS);
        this.timer.unref();
      } catch {
        this.timer = undefined;
      }
    }
  }

  /** Queues an event without arming the timer (exit paths: nothing may be scheduled there). */
  sendQuietly(event: AgentEvent): void {
    this.queue.push(event);
  }

  /** Writes everything queued now, as far as the sink takes it. */
  flush(): void {
    if (this.queue.length > 0 || this.dropped > 0) this.pack();
    this.writeBacklog();
  }

  /** Flushes and, while the pipe is full, retries for up to `maxWaitMs` (exit: last chance). */
  flushHard(maxWaitMs: number): void {
    this.flush();
    const deadline = this.now() + maxWaitMs;
    while (this.backlog.length > 0 && this.now() < deadline) {
      this.sleep(2);
      this.writeBacklog();
    }
  }

  /** Switches to another sink (attach: the binding was added) and writes the backlog there. */
  setSink(sink: LineSink): void {
    this.sink.close();
    this.sink = sink;
    this.flush();
  }

  close(): void {
    this.sink.close();
  }

  private pack(): void {
    const events = this.queue;
    this.queue = [];
    let texts: string[] = [];
    let counts = 0;
    if (this.dropped > 0) {
      texts.push(JSON.stringify({ type: 'dropped', ts: this.now(), count: this.dropped }));
      counts = this.dropped;
      this.dropped = 0;
    }
    const room = MAX_LINE_BYTES - byteLength(this.prefix) - 16 /* seq */ - 9; /* ,"e":[ and ]}\n */
    let bytes = 0;
    const emit = (): void => {
      if (texts.length === 0) return;
      this.push({ text: `${this.prefix}${this.seq++},"e":[${texts.join(',')}]}\n`, events: counts });
      texts = [];
      counts = 0;
      bytes = 0;
    };
    if (texts.length > 0) bytes = byteLength(texts[0]) + 1;
    for (const event of events) {
      const text = fitEvent(event, room);
      if (text === undefined) {
        this.dropped++;
        continue;
      }
      const size = byteLength(text) + 1;
      if (bytes + size > room) emit();
      texts.push(text);
      counts++;
      bytes += size;
    }
    emit();
  }

  private push(line: PendingLine): void {
    this.backlog.push(line);
    this.backlogBytes += line.text.length;
    while (this.backlogBytes > MAX_BACKLOG_BYTES && this.backlog.length > 1) {
      const lost = this.backlog.shift() as PendingLine;
      this.backlogBytes -= lost.text.length;
      this.dropped += lost.events;
    }
  }

  private writeBacklog(): void {
    while (this.backlog.length > 0) {
      const line = this.backlog[0];
      let taken = false;
      try {
        taken = this.sink.write(line.text);
      } catch {
        taken = true; // a throwing binding: the line is lost, not retried forever
      }
      if (!taken) return;
      this.backlog.shift();
      this.backlogBytes -= line.text.length;
    }
  }
}

function byteLength(text: string): number {
  // ASCII fast path: JSON.stringify output is mostly ASCII.
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text);
  return text.length;
}

/** The event's JSON, shrunk (cut arrays, truncated strings) until it fits `room` bytes; undefined if it cannot. */
function fitEvent(event: AgentEvent, room: number): string | undefined {
  let text: string;
  try {
    text = JSON.stringify(event);
  } catch {
    return undefined;
  }
  if (byteLength(text) <= room) return text;
  for (const [maxString, maxArray] of SHRINK_STEPS) {
    try {
      text = JSON.stringify(shrink(event, maxString, maxArray, 0));
    } catch {
      return undefined;
    }
    if (byteLength(text) <= room) return text;
  }
  return undefined;
}

function shrink(value: unknown, maxString: number, maxArray: number, depth: number): unknown {
  if (typeof value === 'string') return value.length > maxString ? `${value.slice(0, maxString)}…` : value;
  if (typeof value !== 'object' || value === null || depth > 8) return value;
  if (Array.isArray(value)) return value.slice(0, maxArray).map((item) => shrink(item, maxString, maxArray, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = shrink(item, maxString, maxArray, depth + 1);
  return out;
}
