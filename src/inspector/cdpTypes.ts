/**
 * Typed CDP command and event maps: Chrome's `ProtocolMapping` from devtools-protocol plus the
 * Node-only domains Gridlock uses, written by hand from Node's src/inspector/node_protocol.pdl
 * (devtools-protocol does not carry them).
 */
import type { ProtocolMapping } from 'devtools-protocol/types/protocol-mapping';

/** Node's `NodeWorker` domain: sessions to worker threads, multiplexed over the main session. */
// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace NodeWorker {
  export interface WorkerInfo {
    /** Inspector id of the worker; not its threadId (that is in `title`). */
    workerId: string;
    type: string;
    /** `[worker <threadId>] <name>`; the name part is absent for unnamed workers. */
    title: string;
    url: string;
  }
  export interface EnableRequest {
    /** When true, new workers wait for `Runtime.runIfWaitingForDebugger` on their session. */
    waitForDebuggerOnStart: boolean;
  }
  export interface SendMessageToWorkerRequest {
    message: string;
    sessionId: string;
  }
  export interface DetachRequest {
    sessionId: string;
  }
  export interface AttachedToWorkerEvent {
    sessionId: string;
    workerInfo: WorkerInfo;
    waitingForDebugger: boolean;
  }
  export interface DetachedFromWorkerEvent {
    sessionId: string;
  }
  export interface ReceivedMessageFromWorkerEvent {
    sessionId: string;
    /** A whole CDP message (response or event) from the worker's session, as JSON text. */
    message: string;
  }
}

/** Node's `NodeRuntime` domain. */
// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace NodeRuntime {
  export interface NotifyWhenWaitingForDisconnectRequest {
    enabled: boolean;
  }
}

/** Commands of the Node-only domains, in the shape of `ProtocolMapping.Commands`. */
export interface NodeCommands {
  'NodeWorker.enable': { paramsType: [NodeWorker.EnableRequest]; returnType: void };
  'NodeWorker.disable': { paramsType: []; returnType: void };
  'NodeWorker.sendMessageToWorker': { paramsType: [NodeWorker.SendMessageToWorkerRequest]; returnType: void };
  'NodeWorker.detach': { paramsType: [NodeWorker.DetachRequest]; returnType: void };
  /** When enabled, the process sends `NodeRuntime.waitingForDisconnect` at exit instead of only printing "Waiting for the debugger to disconnect...". */
  'NodeRuntime.notifyWhenWaitingForDisconnect': { paramsType: [NodeRuntime.NotifyWhenWaitingForDisconnectRequest]; returnType: void };
}

/** Events of the Node-only domains, in the shape of `ProtocolMapping.Events`. */
export interface NodeEvents {
  'NodeWorker.attachedToWorker': [NodeWorker.AttachedToWorkerEvent];
  'NodeWorker.detachedFromWorker': [NodeWorker.DetachedFromWorkerEvent];
  'NodeWorker.receivedMessageFromWorker': [NodeWorker.ReceivedMessageFromWorkerEvent];
  /** The program has finished and waits for clients to disconnect: disconnect now. */
  'NodeRuntime.waitingForDisconnect': [];
}

/** Every command Gridlock can send. */
export type CdpCommands = ProtocolMapping.Commands & NodeCommands;
/** Every event Gridlock can receive. */
export type CdpEvents = ProtocolMapping.Events & NodeEvents;
/** A command name. */
export type CdpMethod = keyof CdpCommands;
/** A event name. */
export type CdpEventName = keyof CdpEvents;
/** What a command returns. */
export type CdpResult<M extends CdpMethod> = CdpCommands[M]['returnType'];
/** The parameters of an event (undefined for events without). */
export type CdpEventParams<E extends CdpEventName> = CdpEvents[E] extends [infer P] ? P : undefined;

/** Per-call options of `send`. */
export interface SendOptions {
  /** Fail the call when no answer came after this long; default: the connection's (5000 ms). */
  timeoutMs?: number;
}

/**
 * The arguments after the method name: params are required when the protocol requires them,
 * optional when optional, and absent for commands without.
 */
export type CdpSendArgs<M extends CdpMethod> = CdpCommands[M]['paramsType'] extends []
  ? [params?: Record<string, never>, options?: SendOptions]
  : CdpCommands[M]['paramsType'] extends [infer P]
    ? [params: P, options?: SendOptions]
    : [params?: CdpCommands[M]['paramsType'][0], options?: SendOptions];
