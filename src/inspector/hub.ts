import { execFileSync } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HubLine } from '../protocol/hubWire';
import { HUB_ENV, TOKEN_ENV } from '../protocol/hubWire';
import { Emitter } from '../common/emitter';

/** A line the hub refused, with why. */
export interface RejectedLine {
  reason: 'bad-token' | 'malformed';
  /** pid the line claimed, when it could be read. */
  pid?: number;
}

/**
 * The host end of the agent channel (see protocol/hubWire.ts): a FIFO in a private 0700
 * directory, read without blocking, with every line's token checked.
 */
export class Hub {
  readonly dir: string;
  readonly fifoPath: string;
  readonly token: string;
  private readonly onLineEmitter = new Emitter<HubLine>();
  private readonly onRejectedEmitter = new Emitter<RejectedLine>();
  /** Lines with a valid token, in arrival order. */
  readonly onLine = this.onLineEmitter.event;
  /** Lines refused (wrong token, not JSON). */
  readonly onRejected = this.onRejectedEmitter.event;
  private readonly reader: net.Socket;
  private readonly keepOpenFd: number;
  private partial = '';
  private closed = false;
  private readonly tokenBytes: Buffer;

  private constructor(dir: string, fifoPath: string, token: string) {
    this.dir = dir;
    this.fifoPath = fifoPath;
    this.token = token;
    this.tokenBytes = Buffer.from(token);
    // Read end non-blocking through libuv; a write end held by us so the reader never sees EOF
    // between one writer closing and the next opening.
    const readFd = fs.openSync(fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.keepOpenFd = fs.openSync(fifoPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    this.reader = new net.Socket({ fd: readFd, readable: true, writable: false });
    this.reader.setEncoding('utf8');
    this.reader.on('data', (chunk: string) => this.consume(chunk));
    this.reader.on('error', () => {
      // A read error on our own FIFO means the directory was removed under us: nothing more arrives.
    });
    this.reader.unref();
  }

  /** Creates the private directory and FIFO. Throws an Error with a readable message on failure. */
  static create(): Hub {
    let dir: string;
    try {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-'));
      fs.chmodSync(dir, 0o700);
    } catch (error) {
      throw new Error(`cannot create a private directory for the hub in ${os.tmpdir()}: ${(error as Error).message}. Set TMPDIR to a writable directory.`);
    }
    const fifoPath = path.join(dir, 'hub');
    try {
      execFileSync('mkfifo', ['-m', '600', fifoPath], { stdio: 'pipe' });
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot create the hub FIFO (mkfifo ${fifoPath}): ${(error as Error).message}. Gridlock needs coreutils' mkfifo on PATH.`);
    }
    return new Hub(dir, fifoPath, randomBytes(16).toString('hex'));
  }

  /** The environment entries that lead an agent to this hub. */
  env(): Record<string, string> {
    return { [HUB_ENV]: this.fifoPath, [TOKEN_ENV]: this.token };
  }

  /** Reads whatever is in the FIFO right now (used before deciding on a stall, and at the end). */
  drain(): void {
    if (this.closed) return;
    const buffer = Buffer.alloc(65536);
    const fd = (this.reader as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return;
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(fd, buffer, 0, buffer.length, null);
      } catch {
        return; // EAGAIN: empty
      }
      if (n <= 0) return;
      this.consume(buffer.toString('utf8', 0, n));
    }
  }

  private consume(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (line.length > 0) this.handle(line);
  }

  private handle(text: string): void {
    let line: HubLine;
    try {
      line = JSON.parse(text) as HubLine;
    } catch {
      this.onRejectedEmitter.fire({ reason: 'malformed' });
      return;
    }
    if (typeof line !== 'object' || line === null || !Array.isArray(line.e)) {
      this.onRejectedEmitter.fire({ reason: 'malformed' });
      return;
    }
    const given = Buffer.from(typeof line.k === 'string' ? line.k : '');
    if (given.length !== this.tokenBytes.length || !timingSafeEqual(given, this.tokenBytes)) {
      this.onRejectedEmitter.fire({ reason: 'bad-token', pid: typeof line.p === 'number' ? line.p : undefined });
      return;
    }
    this.onLineEmitter.fire(line);
  }

  /** Stops reading and removes the directory. */
  dispose(): void {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    this.reader.destroy();
    try {
      fs.closeSync(this.keepOpenFd);
    } catch {
      // already closed
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.onLineEmitter.dispose();
    this.onRejectedEmitter.dispose();
  }
}
