import { toDisposable, type Disposable } from '../common/disposable';
import { Emitter } from '../common/emitter';
import { deferred, type Deferred } from '../common/deferred';
import type { CdpEventName, CdpEventParams, CdpMethod, CdpResult, CdpSendArgs, NodeWorker } from './cdpTypes';
import type { CdpTransport, Event, TransportCloseInfo } from './transport';
import { WebSocketTransport } from './wsTransport';
import { AckNudger } from './ackNudger';

/** Every pending call fails after this long unless the call says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;

/** Why a CDP call failed. */
export type CdpErrorKind =
  /** The target answered with a protocol error (`error.code` is set). */
  | 'protocol'
  /** No answer within the call's timeout. */
  | 'timeout'
  /** The connection closed (either side) before the answer came. */
  | 'closed'
  /** The worker session went away (the worker exited, or we detached) before the answer came. */
  | 'detached';

/**
 * A failed CDP call. Created when the call is made, so its stack shows the caller (not the socket
 * handler that found the failure), and its message names the method and the target.
 */
export class CdpError extends Error {
  override name = 'CdpError';
  kind: CdpErrorKind = 'protocol';
  /** The protocol error code, for `kind: 'protocol'`. */
  code?: number;
  /** What went wrong, without the method and target (the message has them). */
  detail = '';

  constructor(
    /** The CDP method that was called. */
    readonly method: string,
    /** Who it was sent to: a ws URL, or a worker session of one. */
    readonly target: string,
  ) {
    super(`${method} on ${target}`);
  }

  /** Fills in the failure; keeps the call-site stack with the new message. @internal */
  setFailure(kind: CdpErrorKind, detail: string, code?: number): this {
    // V8 formats `stack` on first read, with the message of that moment: read it now (old
    // header, call-site frames), then swap the header, so the result does not depend on whether
    // someone read it before.
    const oldHeader = `${this.name}: ${this.message}`;
    const stack = this.stack;
    this.kind = kind;
    this.detail = detail;
    this.code = code;
    this.message = `${this.method} on ${this.target}: ${detail}`;
    if (typeof stack === 'string' && stack.startsWith(oldHeader)) this.stack = `${this.name}: ${this.message}${stack.slice(oldHeader.length)}`;
    return this;
  }
}

interface PendingCall {
  error: CdpError;
  result: Deferred<unknown>;
  timer: NodeJS.Timeout;
}

/** A CDP message as it arrives (response or event). */
interface IncomingMessage {
  id?: number;
  result?: unknown;
  error?: { code?: number; message?: string; data?: string };
  method?: string;
  params?: unknown;
}

/**
 * What the main connection and worker sessions share: numbered calls with a timeout on every
 * one, errors created at the call site, and typed event listeners.
 */
export abstract class CdpClient {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly listeners = new Map<string, Set<(params: unknown) => void>>();
  /** Set once the client can no longer answer: the detail for every later call's error. */
  protected endedBecause: { kind: CdpErrorKind; detail: string } | undefined;

  protected constructor(
    /** Names this target in error messages. */
    readonly name: string,
    /** Timeout for calls that do not give one. */
    readonly defaultTimeoutMs: number,
  ) {}

  /** True once calls can no longer be answered (closed, or worker detached). */
  get ended(): boolean {
    return this.endedBecause !== undefined;
  }

  /** Calls in flight. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Sends a command and resolves with its result. Every call fails after its timeout (default
   * {@link defaultTimeoutMs}); all fail at once when the connection closes or the worker session
   * detaches. Calls are pipelined: send many, then await them together.
   */
  send<M extends CdpMethod>(method: M, ...args: CdpSendArgs<M>): Promise<CdpResult<M>> {
    const [params, options] = args;
    const error = new CdpError(method, this.name);
    // Start the stack at whoever called send: that is the line a bug report needs.
    Error.captureStackTrace(error, this.send);
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      return Promise.reject(error.setFailure('protocol', `bad timeout ${String(timeoutMs)} (every call needs a finite one)`));
    }
    if (this.endedBecause) return Promise.reject(error.setFailure(this.endedBecause.kind, this.endedBecause.detail));
    const id = this.allocateId();
    const result = deferred<unknown>();
    const timer = setTimeout(() => this.failCall(id, 'timeout', `no answer within ${timeoutMs} ms`), timeoutMs);
    this.pending.set(id, { error, result, timer });
    this.transmit(id, method, params ?? {}, timeoutMs);
    return result.promise as Promise<CdpResult<M>>;
  }

  /** The next message id. @internal */
  protected allocateId(): number {
    return this.nextId++;
  }

  /** Listens to one event; dispose the result to stop. */
  on<E extends CdpEventName>(event: E, listener: (params: CdpEventParams<E>) => void): Disposable {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const fn = listener as (params: unknown) => void;
    set.add(fn);
    return { dispose: () => set.delete(fn) };
  }

  /**
   * Resolves with the next `event` whose params pass `filter`; rejects after `timeoutMs` or when
   * the client ends first. The error is created here, so it names the caller.
   */
  waitFor<E extends CdpEventName>(event: E, options: { timeoutMs?: number; filter?: (params: CdpEventParams<E>) => boolean } = {}): Promise<CdpEventParams<E>> {
    const error = new CdpError(event, this.name);
    Error.captureStackTrace(error, this.waitFor);
    if (this.endedBecause) return Promise.reject(error.setFailure(this.endedBecause.kind, this.endedBecause.detail));
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const done = deferred<CdpEventParams<E>>();
    const sub = this.on(event, (params) => {
      if (!options.filter || options.filter(params)) done.resolve(params);
    });
    const endSub = this.onEnded(() => done.reject(error.setFailure(this.endedBecause?.kind ?? 'closed', `while waiting for the event: ${this.endedBecause?.detail ?? 'ended'}`)));
    const timer = setTimeout(() => done.reject(error.setFailure('timeout', `event not received within ${timeoutMs} ms`)), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      sub.dispose();
      endSub.dispose();
    };
    done.promise.then(cleanup, cleanup);
    return done.promise;
  }

  /** Fires once when the client ends (closed or detached). */
  abstract readonly onEnded: Event<void>;

  /** Puts one call on the wire. @internal */
  protected abstract transmit(id: number, method: string, params: object, timeoutMs: number): void;

  /** Reports a listener that threw. @internal */
  protected abstract listenerFailed(error: unknown): void;

  /** Handles one parsed message of this client. @internal */
  protected handleMessage(message: IncomingMessage): void {
    if (typeof message.id === 'number') {
      const call = this.pending.get(message.id);
      if (!call) return; // answered after it timed out: nobody is waiting any more
      this.pending.delete(message.id);
      clearTimeout(call.timer);
      if (message.error) {
        call.result.reject(call.error.setFailure('protocol', message.error.message ?? 'unknown error', message.error.code));
      } else {
        call.result.resolve(message.result);
      }
      return;
    }
    if (typeof message.method === 'string') this.emit(message.method, message.params);
  }

  /** Calls every listener of `method`; one that throws does not stop the others. @internal */
  protected emit(method: string, params: unknown): void {
    const set = this.listeners.get(method);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(params);
      } catch (error) {
        this.listenerFailed(error);
      }
    }
  }

  /** Fails one pending call. @internal */
  protected failCall(id: number, kind: CdpErrorKind, detail: string): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    call.result.reject(call.error.setFailure(kind, detail));
  }

  /** Ends the client: every pending and later call fails with `detail`. Idempotent. @internal */
  protected end(kind: CdpErrorKind, detail: string): boolean {
    if (this.endedBecause) return false;
    this.endedBecause = { kind, detail };
    for (const id of [...this.pending.keys()]) this.failCall(id, kind, detail);
    this.listeners.clear();
    return true;
  }
}

/** Options of {@link CdpConnection}. */
export interface CdpConnectionOptions {
  /** Names the target in error messages (default: "the inspector"). */
  name?: string;
  /** Timeout of calls that do not give one (default {@link DEFAULT_CALL_TIMEOUT_MS}). */
  defaultTimeoutMs?: number;
  /**
   * Send a tiny message after incoming batches while calls are pending, so the target's delayed
   * small writes are not held ~40 ms for our ACK (see {@link AckNudger}). Default: on in
   * {@link CdpConnection.connect}, off otherwise.
   */
  ackNudges?: boolean;
}

/**
 * A CDP connection to one Node inspector (its main thread), over any {@link CdpTransport}, with
 * the worker threads reachable as {@link CdpSession}s once `NodeWorker.enable` was sent.
 */
export class CdpConnection extends CdpClient {
  private readonly sessionsById = new Map<string, CdpSession>();
  private readonly sessionEmitter = new Emitter<CdpSession>();
  private readonly endedEmitter = new Emitter<void>();
  private readonly closeEmitter = new Emitter<TransportCloseInfo>();
  private readonly listenerErrorEmitter = new Emitter<unknown>();
  private readonly closedDeferred = deferred<TransportCloseInfo>();
  private readonly transportSubs: Disposable[];
  /** A worker session appeared (`NodeWorker.attachedToWorker`); fires before that event's listeners. */
  readonly onSession = this.sessionEmitter.event;
  readonly onEnded = this.endedEmitter.event;
  /** The transport closed (by either side); fires once. */
  readonly onClose = this.closeEmitter.event;
  private listenerErrorSubscribers = 0;
  private closeRequested = false;
  private readonly nudger: AckNudger | undefined;
  /** A listener (of this connection or a session) threw. With no subscriber, the error is rethrown on a later tick, as an EventEmitter would. */
  readonly onListenerError: Event<unknown> = (listener) => {
    this.listenerErrorSubscribers++;
    const sub = this.listenerErrorEmitter.event(listener);
    return toDisposable(() => {
      sub.dispose();
      this.listenerErrorSubscribers--;
    });
  };
  /** Resolves when the transport has closed: after this, the target no longer waits for us. */
  readonly closed: Promise<TransportCloseInfo> = this.closedDeferred.promise;

  constructor(
    private readonly transport: CdpTransport,
    options: CdpConnectionOptions = {},
  ) {
    super(options.name ?? 'the inspector', options.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    if (options.ackNudges) this.nudger = new AckNudger((text) => transport.send(text), () => this.allocateId(), () => this.hasPendingCalls());
    this.transportSubs = [transport.onMessage((text) => this.receive(text)), transport.onClose((info) => this.transportClosed(info))];
  }

  /**
   * Connects to a Node inspector WebSocket URL. Rejects with one readable line (nothing listening,
   * not an inspector, no answer in time).
   */
  static async connect(wsUrl: string, options: CdpConnectionOptions & { connectTimeoutMs?: number } = {}): Promise<CdpConnection> {
    const transport = await WebSocketTransport.connect(wsUrl, { timeoutMs: options.connectTimeoutMs });
    return new CdpConnection(transport, { ...options, name: options.name ?? wsUrl, ackNudges: options.ackNudges ?? true });
  }

  /** The worker session with this id, while attached. */
  session(sessionId: string): CdpSession | undefined {
    return this.sessionsById.get(sessionId);
  }

  /** Worker sessions currently attached, in attach order. */
  sessions(): CdpSession[] {
    return [...this.sessionsById.values()];
  }

  /** Closes the connection: pending calls fail now with "connection closed"; idempotent. */
  close(): void {
    if (this.closeRequested) return;
    this.closeRequested = true;
    this.shutdown('connection closed');
    this.transport.close();
  }

  protected transmit(id: number, method: string, params: object): void {
    this.nudger?.noteSent();
    this.transport.send(JSON.stringify({ id, method, params }));
  }

  /** @internal */
  protected listenerFailed(error: unknown): void {
    if (this.listenerErrorSubscribers > 0) this.listenerErrorEmitter.fire(error);
    else
      setImmediate(() => {
        throw error;
      });
  }

  /** @internal Used by sessions, whose listeners report here. */
  reportListenerError(error: unknown): void {
    this.listenerFailed(error);
  }

  private receive(text: string): void {
    let message: IncomingMessage;
    try {
      message = JSON.parse(text) as IncomingMessage;
    } catch {
      return; // not JSON: nothing we can route; the inspector never sends this
    }
    if (typeof message !== 'object' || message === null) return;
    if (this.nudger?.noteIncoming(message.id)) return; // a nudge's answer: nobody waits for it
    // Worker plumbing is handled before user listeners run, so a listener of attachedToWorker
    // already finds the session, and a detach fails its calls before anyone reacts to it.
    switch (message.method) {
      case 'NodeWorker.attachedToWorker': {
        const params = message.params as NodeWorker.AttachedToWorkerEvent;
        if (!this.sessionsById.has(params.sessionId)) {
          const session = new CdpSession(this, params.sessionId, params.workerInfo);
          this.sessionsById.set(params.sessionId, session);
          this.sessionEmitter.fire(session);
        }
        break;
      }
      case 'NodeWorker.detachedFromWorker': {
        const params = message.params as NodeWorker.DetachedFromWorkerEvent;
        const session = this.sessionsById.get(params.sessionId);
        this.sessionsById.delete(params.sessionId);
        session?.markDetached('the worker session detached (the worker exited)');
        break;
      }
      case 'NodeWorker.receivedMessageFromWorker': {
        const params = message.params as NodeWorker.ReceivedMessageFromWorkerEvent;
        this.sessionsById.get(params.sessionId)?.receive(params.message);
        break;
      }
      default:
        break;
    }
    this.handleMessage(message);
  }

  private hasPendingCalls(): boolean {
    if (this.pendingCount > 0) return true;
    for (const session of this.sessionsById.values()) if (session.pendingCount > 0) return true;
    return false;
  }

  /** @internal A session we detached ourselves. */
  forgetSession(sessionId: string): void {
    this.sessionsById.delete(sessionId);
  }

  private shutdown(detail: string): void {
    if (!this.end('closed', detail)) return;
    this.nudger?.dispose();
    for (const session of this.sessionsById.values()) session.markDetached(detail, 'closed');
    this.sessionsById.clear();
    this.endedEmitter.fire();
    this.endedEmitter.dispose();
    this.sessionEmitter.dispose();
  }

  private transportClosed(info: TransportCloseInfo): void {
    this.shutdown(info.byUs ? 'connection closed' : `connection closed: ${info.reason}`);
    for (const sub of this.transportSubs) sub.dispose();
    this.closeEmitter.fire(info);
    this.closeEmitter.dispose();
    this.closedDeferred.resolve(info);
  }
}

/**
 * A worker thread's CDP session, multiplexed through `NodeWorker.sendMessageToWorker` on the main
 * connection; its answers and events come back in `NodeWorker.receivedMessageFromWorker`. Calls
 * to a detached session are never answered by Node, so they fail here at once.
 */
export class CdpSession extends CdpClient {
  private readonly endedEmitter = new Emitter<void>();
  readonly onEnded = this.endedEmitter.event;
  /** The worker's threadId, parsed from the title (`[worker 3] name`); undefined if the title has another shape. */
  readonly threadId: number | undefined;
  /** The worker's name (the `name` option of `new Worker`), '' when it has none. */
  readonly workerName: string;

  /** @internal Created by {@link CdpConnection} when a worker attaches. */
  constructor(
    readonly connection: CdpConnection,
    readonly sessionId: string,
    readonly workerInfo: NodeWorker.WorkerInfo,
  ) {
    super(`${workerInfo.title || `worker session ${sessionId}`} via ${connection.name}`, connection.defaultTimeoutMs);
    const parsed = parseWorkerTitle(workerInfo.title);
    this.threadId = parsed?.threadId;
    this.workerName = parsed?.name ?? '';
  }

  /** Detaches this session (`NodeWorker.detach`); pending calls fail now. The worker keeps running. */
  async detach(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.ended) return;
    this.markDetached('detached by us');
    this.connection.forgetSession(this.sessionId);
    await this.connection.send('NodeWorker.detach', { sessionId: this.sessionId }, options);
  }

  protected transmit(id: number, method: string, params: object, timeoutMs: number): void {
    const message = JSON.stringify({ id, method, params });
    this.connection.send('NodeWorker.sendMessageToWorker', { sessionId: this.sessionId, message }, { timeoutMs }).catch((error: unknown) => {
      // The carrier call failed (closed, timed out, unknown session): so did ours.
      const cdp = error as CdpError;
      this.failCall(id, cdp.kind ?? 'closed', `could not reach the worker: ${cdp.detail || String(error)}`);
    });
  }

  /** @internal */
  protected listenerFailed(error: unknown): void {
    this.connection.reportListenerError(error);
  }

  /** @internal A message from the worker (JSON text). */
  receive(text: string): void {
    try {
      this.handleMessage(JSON.parse(text) as IncomingMessage);
    } catch {
      // not JSON: ignore (Node never sends this)
    }
  }

  /** @internal The worker went away: fail everything now. */
  markDetached(detail: string, kind: CdpErrorKind = 'detached'): void {
    if (!this.end(kind, detail)) return;
    this.endedEmitter.fire();
    this.endedEmitter.dispose();
  }
}

/** Parses a worker title `[worker <threadId>] <name>` (the name part may be absent). */
export function parseWorkerTitle(title: string): { threadId: number; name: string } | undefined {
  const match = /^\[worker (\d+)\](?: (.*))?$/s.exec(title);
  if (!match) return undefined;
  return { threadId: Number(match[1]), name: match[2] ?? '' };
}
