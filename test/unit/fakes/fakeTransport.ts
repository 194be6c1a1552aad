import { Emitter } from '../../../src/common/emitter';
import type { CdpTransport, TransportCloseInfo } from '../../../src/inspector/transport';

/** A message the code under test sent. */
export interface SentMessage {
  id: number;
  method: string;
  params: Record<string, unknown>;
}

/**
 * A scripted CDP peer: records what is sent, answers and emits on demand, and plays worker
 * sessions (NodeWorker.sendMessageToWorker in, receivedMessageFromWorker out). Everything is
 * synchronous, so tests never wait for the fake.
 */
export class FakeTransport implements CdpTransport {
  readonly sent: SentMessage[] = [];
  closeCalls = 0;
  closed = false;
  /** Answer NodeWorker.sendMessageToWorker with {} as Node does (default on). */
  autoAckWorkerMessages = true;
  private readonly messageEmitter = new Emitter<string>();
  private readonly closeEmitter = new Emitter<TransportCloseInfo>();
  private readonly sentEmitter = new Emitter<SentMessage>();
  readonly onMessage = this.messageEmitter.event;
  readonly onClose = this.closeEmitter.event;
  /** Fires for every message sent (after it is recorded). */
  readonly onSent = this.sentEmitter.event;

  send(message: string): void {
    if (this.closed) return;
    const parsed = JSON.parse(message) as SentMessage;
    this.sent.push(parsed);
    if (this.autoAckWorkerMessages && parsed.method === 'NodeWorker.sendMessageToWorker') this.respond(parsed.id, {});
    this.sentEmitter.fire(parsed);
  }

  close(): void {
    this.closeCalls++;
    this.drop({ reason: 'closed by us', code: 1000, byUs: true });
  }

  /** The peer goes away (the program exited). */
  drop(info: TransportCloseInfo = { reason: 'the target dropped the connection (the program exited or was killed)', code: 1006, byUs: false }): void {
    if (this.closed) return;
    this.closed = true;
    this.closeEmitter.fire(info);
  }

  /** The last sent message with this method (throws when there is none). */
  last(method: string): SentMessage {
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i].method === method) return this.sent[i];
    throw new Error(`nothing sent with method ${method}; sent: ${this.sent.map((m) => m.method).join(', ')}`);
  }

  /** Resolves with the next message with `method` sent from now on, or one already sent and not yet taken. */
  nextSent(method: string, after = 0): Promise<SentMessage> {
    const existing = this.sent.slice(after).find((m) => m.method === method);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const sub = this.onSent((m) => {
        if (m.method !== method) return;
        sub.dispose();
        resolve(m);
      });
    });
  }

  respond(id: number, result: unknown): void {
    this.deliver({ id, result });
  }

  respondError(id: number, code: number, message: string): void {
    this.deliver({ id, error: { code, message } });
  }

  emit(method: string, params: unknown = {}): void {
    this.deliver({ method, params });
  }

  /** Sends raw text, for malformed-input tests. */
  deliverRaw(text: string): void {
    this.messageEmitter.fire(text);
  }

  deliver(message: unknown): void {
    this.messageEmitter.fire(JSON.stringify(message));
  }

  // --- worker sessions -------------------------------------------------------------------------

  attachWorker(sessionId: string, title: string, workerId = sessionId): void {
    this.emit('NodeWorker.attachedToWorker', { sessionId, workerInfo: { workerId, type: 'worker', title, url: 'file:///w.js' }, waitingForDebugger: false });
  }

  detachWorker(sessionId: string): void {
    this.emit('NodeWorker.detachedFromWorker', { sessionId });
  }

  /** The messages sent into a worker session, parsed. */
  workerMessages(sessionId: string): SentMessage[] {
    return this.sent
      .filter((m) => m.method === 'NodeWorker.sendMessageToWorker' && m.params.sessionId === sessionId)
      .map((m) => JSON.parse(m.params.message as string) as SentMessage);
  }

  respondFromWorker(sessionId: string, id: number, result: unknown): void {
    this.emit('NodeWorker.receivedMessageFromWorker', { sessionId, message: JSON.stringify({ id, result }) });
  }

  emitFromWorker(sessionId: string, method: string, params: unknown): void {
    this.emit('NodeWorker.receivedMessageFromWorker', { sessionId, message: JSON.stringify({ method, params }) });
  }
}
