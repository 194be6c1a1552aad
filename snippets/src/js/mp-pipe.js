// multiprocessing.Pipe → a MessageChannel: two MessagePorts; one end stays, the other is
// transferred to a worker thread. Duplex by default; Pipe(false) gives (receive-only, send-only).
const { MessageChannel, Worker, isMainThread, workerData } = require('node:worker_threads');
const { once } = require('node:events');

class EOFError extends Error {
  name = 'EOFError';
}

/** One end of a pipe, like multiprocessing.connection.Connection: send, recv, poll, close. */
class Connection {
  #inbox = [];
  #closed = false;
  #wake;

  constructor(port, readable = true, writable = true) {
    this.port = port;
    this.readable = readable;
    this.writable = writable;
    port.on('message', (message) => {
      this.#inbox.push(message);
      this.#wake?.();
    });
    port.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    port.unref(); // an idle end does not keep the process alive; recv() and poll() ref it
  }

  send(obj) {
    if (!this.writable) throw new Error('connection is read-only');
    this.port.postMessage(obj); // a structured clone, not a pickle
  }

  /** recv(): the next message; EOFError once the other end is closed and nothing is left. */
  async recv() {
    if (!this.readable) throw new Error('connection is write-only');
    if (!(await this.poll())) throw new EOFError('the other end of the pipe is closed');
    return this.#inbox.shift();
  }

  /** poll(timeout): whether a message can be received now, waiting at most timeoutMs. */
  async poll(timeoutMs = Infinity) {
    if (this.#inbox.length > 0) return true;
    if (this.#closed || timeoutMs <= 0) return false;
    let timer;
    this.port.ref();
    try {
      await new Promise((resolve) => {
        this.#wake = resolve;
        if (timeoutMs !== Infinity) timer = setTimeout(resolve, timeoutMs);
      });
    } finally {
      this.#wake = undefined;
      clearTimeout(timer);
      this.port.unref();
    }
    return this.#inbox.length > 0;
  }

  close() {
    this.port.close();
  }
}

function Pipe(duplex = true) {
  const { port1, port2 } = new MessageChannel();
  return duplex ? [new Connection(port1), new Connection(port2)] : [new Connection(port1, true, false), new Connection(port2, false, true)];
}

async function main() {
  const [parentConn, childConn] = Pipe();
  const [reader, writer] = Pipe(false);
  const worker = new Worker(__filename, {
    workerData: { conn: childConn.port, writer: writer.port },
    transferList: [childConn.port, writer.port], // the worker now owns these ends
  });
  const exited = once(worker, 'exit');
  try {
    for (let i = 1; i <= 3; i++) {
      parentConn.send(`ping ${i}`);
      console.log(`parent got: ${String(await parentConn.recv())}`);
    }
    const received = [];
    try {
      for (;;) received.push(await reader.recv());
    } catch (error) {
      if (!(error instanceof EOFError)) throw error;
    }
    console.log(`one-way pipe -> ${JSON.stringify(received)}, then EOFError`);
    console.log(`poll(0.1) on a closed pipe -> ${await parentConn.poll(100)}`);
  } finally {
    parentConn.close();
    reader.close();
  }
  await exited;
}

async function child() {
  const data = workerData;
  const conn = new Connection(data.conn);
  const writer = new Connection(data.writer, false, true);
  try {
    for (let i = 0; i < 3; i++) conn.send(String(await conn.recv()).replace('ping', 'pong'));
    for (const n of [${1:1, 2, 3}]) writer.send(n);$0
  } finally {
    writer.close();
    conn.close();
  }
}

(isMainThread ? main() : child()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
