import type WebSocket from 'ws';
import { Emitter } from '../common/emitter';
import type { CdpTransport, TransportCloseInfo } from './transport';

/**
 * The `ws` package, loaded on the first connection: with it come http, https, tls and zlib, which
 * `gridlock run` needs only for a thread dump, and would otherwise load before the program starts.
 */
function loadWs(): typeof WebSocket {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; esbuild bundles it all the same
  return require('ws') as typeof WebSocket;
}

/** Options of {@link WebSocketTransport.connect}. */
export interface WsConnectOptions {
  /** Give up when the WebSocket is not open after this long (default 3000 ms). */
  timeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** After we send a close frame, how long to wait for the peer's before dropping the socket. */
const CLOSE_GRACE_MS = 500;

/**
 * Turns a network error into one line a user can act on. `where` is `host:port`.
 * Shared with inspectorTarget.ts, which sees the same errors over plain HTTP.
 */
export function describeNetError(error: Error & { code?: string }, where: string): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `nothing is listening on ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host of ${where}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached (${error.code})`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${where} closed the connection before answering: it is not a Node inspector, or the program is exiting`;
    default:
      break;
  }
  // llhttp parse errors: something answered, but not in HTTP.
  if (error.code?.startsWith('HPE_') || /parse error/i.test(error.message)) {
    return `${where} is not a Node inspector (it does not speak HTTP)`;
  }
  const status = /Unexpected server response: (\d+)/.exec(error.message);
  if (status) return `${where} is not a Node inspector (HTTP ${status[1]} instead of a WebSocket upgrade)`;
  if (/Invalid WebSocket frame|Sec-WebSocket-Accept|Invalid Upgrade header/i.test(error.message)) {
    return `${where} is not a Node inspector (bad WebSocket handshake: ${error.message})`;
  }
  return `cannot connect to ${where}: ${error.message}`;
}

/** `host:port` of a ws:// URL, for messages. */
function hostPort(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || '80'}`;
  } catch {
    return url;
  }
}

/**
 * A {@link CdpTransport} over a WebSocket (the `ws` package), for a Node inspector.
 *
 * Deliberately without keepalive pings: a ping closes the inspector connection (code 1006,
 * PLATFORM-FACTS.md). Compression is off because the inspector does not negotiate it and it only
 * costs time on our side.
 */
export class WebSocketTransport implements CdpTransport {
  private readonly messageEmitter = new Emitter<string>();
  private readonly closeEmitter = new Emitter<TransportCloseInfo>();
  readonly onMessage = this.messageEmitter.event;
  readonly onClose = this.closeEmitter.event;
  private closedByUs = false;
  private closed = false;

  private constructor(
    private readonly ws: WebSocket,
    /** The URL connected to, for messages. */
    readonly url: string,
  ) {
    ws.on('message', (data: WebSocket.RawData) => {
      this.messageEmitter.fire(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8'));
    });
    ws.on('error', () => {
      // 'close' always follows an 'error' on an open socket; that is where we report.
    });
    ws.on('close', (code: number) => this.finish(code));
  }

  /**
   * Opens a WebSocket to `url` (`ws://host:port/uuid`). Rejects with one readable line: nothing
   * listening, not an inspector, or no answer in time.
   */
  static connect(url: string, options: WsConnectOptions = {}): Promise<WebSocketTransport> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const where = hostPort(url);
    // Created here so the stack shows who asked to connect, not ws internals.
    const failure = new Error(`cannot connect to ${url}`);
    return new Promise<WebSocketTransport>((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new (loadWs())(url, { perMessageDeflate: false, followRedirects: false, maxPayload: 256 * 1024 * 1024 });
      } catch (error) {
        failure.message = `cannot connect to ${url}: ${(error as Error).message}`;
        reject(failure);
        return;
      }
      const fail = (message: string): void => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        failure.message = message;
        reject(failure);
      };
      const timer = setTimeout(() => fail(`no answer from ${where} within ${timeoutMs} ms (is the program stopped, or not a Node inspector?)`), timeoutMs);
      ws.once('error', (error: Error & { code?: string }) => fail(describeNetError(error, where)));
      ws.once('close', (code: number) => fail(`${where} closed the connection during the handshake (code ${code})`));
      ws.once('open', () => {
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(new WebSocketTransport(ws, url));
      });
    });
  }

  send(message: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(message);
  }

  close(): void {
    if (this.closed || this.closedByUs) return;
    this.closedByUs = true;
    this.ws.close(1000);
    // The inspector answers a close frame from its own I/O thread, so this is quick; but never
    // let a silent peer keep us (and the program's exit) waiting.
    setTimeout(() => {
      if (!this.closed) this.ws.terminate();
    }, CLOSE_GRACE_MS).unref();
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    const reason = this.closedByUs
      ? 'closed by us'
      : code === 1006
        ? 'the target dropped the connection (the program exited or was killed)'
        : `the target closed the connection (code ${code})`;
    this.closeEmitter.fire({ reason, code, byUs: this.closedByUs });
    this.closeEmitter.dispose();
    this.messageEmitter.dispose();
  }
}
