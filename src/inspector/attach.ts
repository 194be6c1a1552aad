import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentEvent } from '../protocol/agentEvents';
import { AGENT_BINDING_NAME, AGENT_CONFIG_GLOBAL, AGENT_GLOBAL_KEY, type HubLine, type InjectedAgentConfig } from '../protocol/hubWire';
import { deferred } from '../common/deferred';
import type Protocol from 'devtools-protocol';
import { CdpConnection, type CdpClient, type CdpError, type CdpSession } from './cdpConnection';
import { dumpThreads, type ThreadDump, type ThreadDumpOptions } from './threadDump';

/** Options of {@link attachToTarget}. */
export interface AttachOptions {
  /** Bound on opening the WebSocket (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Bound on each CDP call, the agent's injection included (default 10000 ms). */
  callTimeoutMs?: number;
  /** Track worker threads through NodeWorker sessions (default true). */
  workers?: boolean;
  /** Each thread's snapshot, right after the agent is injected (or found) in it. */
  onSnapshot?: (snapshot: ThreadSnapshot) => void;
  /** How long a starting worker may take to become ready for the agent (default 3000 ms). */
  workerReadyTimeoutMs?: number;
  /** Something went wrong that does not end the attachment: a worker could not be injected, a malformed line. */
  onProblem?: (message: string) => void;
}

/** What a thread's agent reported when we attached: `AgentApi.snapshot()`. */
export interface ThreadSnapshot {
  pid: number;
  threadId: number;
  /** The agent's version string. */
  version: string;
  events: AgentEvent[];
}

/** How an attachment ended. */
export interface AttachCloseInfo {
  /** `detached`: we let go; `target-exited`: the program finished; `connection-lost`: the socket dropped. */
  reason: 'detached' | 'target-exited' | 'connection-lost';
  detail: string;
}

/** A live attachment to one process. */
export interface AttachHandle {
  /** The inspector URL. */
  readonly url: string;
  /** The process id. */
  readonly pid: number;
  /** The underlying connection (for thread dumps over the same socket, or more calls). */
  readonly connection: CdpConnection;
  /** Resolves once, when the attachment ends for any reason; never rejects. */
  readonly closed: Promise<AttachCloseInfo>;
  /** Thread ids the agent runs in through this attachment (0: main). */
  threads(): number[];
  /**
   * Lets go: detaches the worker sessions and disconnects. The program keeps running; the agent
   * stays loaded (a later attach finds it). Sends no `*.disable`: those would hurt other clients
   * sharing a proxied session. Idempotent; resolves when the socket is closed.
   */
  detach(): Promise<void>;
  /** A stack of every thread, over this connection (no second client, no extra "Debugger attached."). */
  dump(options?: ThreadDumpOptions): Promise<ThreadDump>;
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** Wraps a bundle so it runs through Runtime.evaluate whether it is an IIFE or CommonJS output. */
export function wrapAgentSource(source: string, bundlePath: string): string {
  // Same line as the source's first line, so the bundle's line numbers stay as they are on disk.
  const head = '(function (exports, require, module, __filename, __dirname) {';
  // `require` only reaches built-ins (the agent has no other dependency); there is no module
  // system in an evaluation.
  const tail = `\n}).apply(undefined, ((m) => [m.exports, (id) => (process.getBuiltinModule ? process.getBuiltinModule(id) : process.mainModule.require(id)), m, ${JSON.stringify(bundlePath)}, ${JSON.stringify(path.dirname(bundlePath))}])({ exports: {} }));\nundefined;\n//# sourceURL=${bundlePath}`;
  // Only ASCII goes out: a worker given a non-ASCII character in an evaluation never answers. The
  // build already writes the agent bundle in ASCII (scripts/build.mjs, for the loader's latin1
  // read); what this still escapes is the bundle's path (an install under a non-ASCII directory)
  // and any other source. \uXXXX is the same character in a string, a regular expression or an
  // identifier, and harmless in a comment.
  return (head + source + tail).replace(/[^\t\n\r\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * True once a worker has finished starting: Node's worker bootstrap has completed
 * (`process._fatalException` is set just before it ends) and the script has been handed over
 * (`parentPort` is set right before user code runs). A worker that attaches while starting answers
 * evaluations in the middle of its bootstrap, where loading a built-in module can fail and break it
 * ("testEnabled is not a function"): so nothing else is evaluated before this says true, and this
 * loads no module until bootstrap is complete.
 */
export const WORKER_READY_EXPRESSION = `typeof process === 'object' && typeof process._fatalException === 'function' && typeof process.pid === 'number' && typeof process.getBuiltinModule === 'function' && process.getBuiltinModule('node:worker_threads').parentPort != null`;

const DEFAULT_WORKER_READY_MS = 3000;

/**
 * Asks a new worker whether it has finished starting, again and again (5, 10, 20, 40, 50 ms apart)
 * until it has, it exits, or `timeoutMs` passes. Polling: Node sends no event for this.
 */
async function waitUntilWorkerReady(session: CdpSession, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
    const answer = await session.send('Runtime.evaluate', { expression: WORKER_READY_EXPRESSION, returnByValue: true, silent: true }, { timeoutMs: Math.max(1, deadline - Date.now()) });
    if (answer.result.value === true) return true;
    if (Date.now() + pause >= deadline || session.ended) return false;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** Runs after injection: switch the agent to our binding, then take its snapshot. */
const SNAPSHOT_EXPRESSION = `(() => {
  const api = globalThis[Symbol.for(${JSON.stringify(AGENT_GLOBAL_KEY)})];
  if (!api || typeof api.snapshot !== 'function') throw new Error('the agent did not load (no API on globalThis)');
  api.useBinding(${JSON.stringify(AGENT_BINDING_NAME)});
  let threadId = 0;
  try { threadId = process.getBuiltinModule('node:worker_threads').threadId; } catch {}
  return { pid: process.pid, threadId, version: String(api.version), events: api.snapshot() };
})()
//# sourceURL=gridlock-internal:attach`;

function describeException(details: Protocol.Runtime.ExceptionDetails): string {
  return (details.exception?.description ?? details.text).split('\n')[0];
}

/** Checks a binding payload is a {@link HubLine}; returns undefined when it is not. */
export function parseAgentLine(payload: string): HubLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const line = value as Partial<HubLine> | null;
  if (!line || typeof line !== 'object' || typeof line.p !== 'number' || typeof line.t !== 'number' || typeof line.s !== 'number' || !Array.isArray(line.e)) return undefined;
  if (typeof line.k !== 'string') line.k = '';
  return line as HubLine;
}

/**
 * An agent injected into a running worker cannot know the worker's name or script (its parent's
 * agent, which would have told it, was not there when the worker started); the inspector does.
 */
function nameFromInspector(events: HubLine['e'], session: CdpSession): void {
  for (const event of events) {
    if (event.type !== 'hello' || event.isMainThread) continue;
    if (!event.name && session.workerName) event.name = session.workerName;
    if ((!event.script || event.script === '[worker]') && session.workerInfo.url) event.script = session.workerInfo.url;
  }
}

/** The agent's threshold: a sample window busier than this is `running` whatever its wake-ups. */
const RUNNING_ELU = 0.05;

/**
 * Takes out of the main thread's samples the wake-ups the attachment itself caused. Every message
 * between gridlock and a worker's agent goes through the main thread's inspector (NodeWorker
 * sessions), and each one wakes the main thread's event loop: an idle worker's heartbeat, every
 * 500 ms, would make an idle main thread look busy, and no stall could ever be found in attach mode.
 * The connection delivers the worker messages and the main thread's lines in the order the main
 * thread handled them, so the messages counted since the main thread's previous line are the ones
 * that can have woken it since. A sample whose only wake-ups are those, with no work to speak of
 * and nothing outside the tree to wait on, is what the thread would have reported without us:
 * idle with no wake-ups. (Wake-ups from inside the tree — a message from a worker, a child's
 * output — come with activity of the thread or process that caused them, which still counts.)
 */
export function discountInspectorWakeups(events: HubLine['e'], crossings: number): void {
  if (crossings <= 0) return;
  for (const event of events) {
    if (event.type !== 'sample' || event.state !== 'running' || event.wakeups <= 0) continue;
    if (event.wakeups > crossings || event.elu > RUNNING_ELU || event.external.length > 0) continue;
    event.state = 'idle';
    event.wakeups = 0;
  }
}

class Attachment implements AttachHandle {
  readonly closed: Promise<AttachCloseInfo>;
  pid = 0;
  private readonly done = deferred<AttachCloseInfo>();
  private readonly threadIds = new Set<number>();
  /** True once Node said the program is exiting (it waits for us to disconnect). */
  exited = false;
  /** Inspector messages that crossed the main thread's event loop since its agent's last line. */
  private crossedMain = 0;

  constructor(
    readonly connection: CdpConnection,
    readonly url: string,
    private readonly source: string,
    private readonly onLine: (line: HubLine) => void,
    private readonly options: AttachOptions,
  ) {
    this.closed = this.done.promise;
    connection.onClose((info) => {
      this.done.resolve(
        this.exited ? { reason: 'target-exited', detail: 'the program exited' } : info.byUs ? { reason: 'detached', detail: 'detached' } : { reason: 'connection-lost', detail: info.reason },
      );
    });
    // At exit Node waits for every client to disconnect; with this it tells us, and we let go at once.
    connection.on('NodeRuntime.waitingForDisconnect', () => {
      this.exited = true;
      connection.close();
    });
  }

  threads(): number[] {
    return [...this.threadIds].sort((a, b) => a - b);
  }

  /** Injects into the main thread (failure rejects) and every worker (failure is a problem). */
  async start(): Promise<void> {
    const c = this.connection;
    void c.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true }).catch(() => undefined);
    const main = await this.inject(c, 'the main thread');
    this.pid = main.pid;
    if (this.options.workers === false) return;
    let initial: Array<Promise<unknown>> | undefined = [];
    c.onSession((session) => {
      this.crossedMain++;
      session.onEnded(() => this.crossedMain++);
      const injected = this.injectWorker(session);
      initial?.push(injected);
    });
    await c.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    // Running workers attach before enable is answered: wait for their injections, not for later ones.
    const running = initial;
    initial = undefined;
    await Promise.allSettled(running);
  }

  private async injectWorker(session: CdpSession): Promise<void> {
    const who = session.workerInfo.title || `worker session ${session.sessionId}`;
    try {
      if (!(await waitUntilWorkerReady(session, this.options.workerReadyTimeoutMs ?? DEFAULT_WORKER_READY_MS))) {
        if (!session.ended) this.problem(`${who} did not finish starting within ${this.options.workerReadyTimeoutMs ?? DEFAULT_WORKER_READY_MS} ms: not tracked`);
        return;
      }
      await this.inject(session, who, session);
    } catch (error) {
      if (session.ended) return; // it exited meanwhile: nothing to track
      this.problem((error as Error).message);
    }
  }

  /**
   * One pipelined burst: binding, config, bundle, snapshot. A session runs its commands in order,
   * so there is no need to wait between them (a sequential round trip to a worker can cost ~44 ms).
   */
  private async inject(client: CdpClient, who: string, worker?: CdpSession): Promise<ThreadSnapshot> {
    client.on('Runtime.bindingCalled', (event) => {
      if (event.name !== AGENT_BINDING_NAME) return;
      const line = parseAgentLine(event.payload);
      if (line && worker) {
        nameFromInspector(line.e, worker);
        this.crossedMain++;
      } else if (line) {
        discountInspectorWakeups(line.e, this.crossedMain);
        this.crossedMain = 0;
      }
      if (line) this.onLine(line);
      else this.problem(`malformed agent line from ${who}: ${event.payload.slice(0, 80)}`);
    });
    const config: InjectedAgentConfig = { binding: AGENT_BINDING_NAME };
    const binding = client.send('Runtime.addBinding', { name: AGENT_BINDING_NAME });
    const configured = client.send('Runtime.evaluate', { expression: `globalThis[${JSON.stringify(AGENT_CONFIG_GLOBAL)}] = ${JSON.stringify(config)}; undefined`, silent: true });
    // When the agent is already loaded (launched by gridlock, or attached before) its guard makes this a no-op.
    const loaded = client.send('Runtime.evaluate', { expression: this.source, silent: true });
    const snapshot = client.send('Runtime.evaluate', { expression: SNAPSHOT_EXPRESSION, returnByValue: true, silent: true });
    const [, configResult, loadResult, snapResult] = await Promise.all([binding, configured, loaded, snapshot]).catch((error: unknown) => {
      throw new Error(`cannot inject the agent into ${who}: ${(error as CdpError).detail || (error as Error).message}`);
    });
    for (const result of [configResult, loadResult, snapResult]) {
      if (result.exceptionDetails) throw new Error(`cannot inject the agent into ${who}: ${describeException(result.exceptionDetails)}`);
    }
    const value = snapResult.result.value as ThreadSnapshot | undefined;
    if (!value || !Array.isArray(value.events)) throw new Error(`cannot inject the agent into ${who}: its snapshot is not a list of events`);
    this.threadIds.add(value.threadId);
    if (worker) nameFromInspector(value.events, worker);
    this.options.onSnapshot?.(value);
    return value;
  }

  private problem(message: string): void {
    this.options.onProblem?.(message);
  }

  async dump(options: ThreadDumpOptions = {}): Promise<ThreadDump> {
    // The sessions are ours already; a second NodeWorker.enable is not needed.
    const dump = await dumpThreads(this.connection, { ...options, enableWorkers: false });
    dump.url = this.url;
    return dump;
  }

  async detach(): Promise<void> {
    if (!this.connection.ended) {
      await Promise.allSettled(this.connection.sessions().map((s) => s.detach({ timeoutMs: 500 })));
    }
    this.connection.close();
    await this.connection.closed;
  }
}

/**
 * Attaches to a running Node process (started with `--inspect`) at `wsUrl`: injects the agent
 * bundle at `agentBundlePath` into the main thread and every worker (also workers started later),
 * hands every line the agents send (through the Runtime binding) to `onLine`, and stays connected
 * until {@link AttachHandle.detach} or the program ends.
 *
 * `Runtime.enable` is not needed: `Runtime.bindingCalled` arrives without it (measured on Node 20
 * and 24), and not sending it spares the program every console message going over the socket.
 * Rejects with one readable line when the bundle cannot be read, the inspector cannot be reached,
 * or the agent cannot be injected into the main thread.
 */
export async function attachToTarget(wsUrl: string, agentBundlePath: string, onLine: (line: HubLine) => void, options: AttachOptions = {}): Promise<AttachHandle> {
  const bundlePath = path.resolve(agentBundlePath);
  let source: string;
  try {
    source = fs.readFileSync(bundlePath, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the agent bundle ${bundlePath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (build it with npm run build)`);
  }
  const connection = await CdpConnection.connect(wsUrl, { connectTimeoutMs: options.connectTimeoutMs, defaultTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS });
  const attachment = new Attachment(connection, wsUrl, wrapAgentSource(source, bundlePath), onLine, options);
  try {
    await attachment.start();
  } catch (error) {
    await attachment.detach();
    // The program ended while the agent was being injected: say that, not which call failed.
    if (attachment.exited) throw new Error('the program exited while gridlock was attaching');
    throw error;
  }
  return attachment;
}
