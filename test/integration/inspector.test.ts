// The CDP client against real Node processes started with --inspect=127.0.0.1:0 (the Node of
// test/helpers/testNode.ts, so `node scripts/withNode24.mjs …` runs the programs on Node 24).
import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { testNode } from '../helpers/testNode';
import { CdpConnection, CdpError } from '../../src/inspector/cdpConnection';
import { parseListeningLine, resolveInspectorTarget } from '../../src/inspector/inspectorTarget';
import { NO_ANSWER, takeThreadDump, type ThreadDump, type ThreadDumpEntry } from '../../src/inspector/threadDump';
import { WebSocketTransport } from '../../src/inspector/wsTransport';
import { attachToTarget, type ThreadSnapshot } from '../../src/inspector/attach';
import type { HubLine } from '../../src/protocol/hubWire';

const fixtures = path.join(__dirname, '..', 'fixtures', 'inspector');

/** A program under test, with its inspector URL. */
interface Program {
  child: ChildProcess;
  url: string;
  stderr(): string;
  /** Resolves when stderr has matched `re` (now or later). */
  stderrMatch(re: RegExp): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a fixture under --inspect on a random loopback port; killed when the test ends. */
async function launch(t: TestContext, fixture: string, args: string[] = []): Promise<Program> {
  const child = spawn(testNode, ['--inspect=127.0.0.1:0', path.join(fixtures, fixture), ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let text = '';
  const watchers: Array<() => void> = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    text += chunk;
    for (const w of [...watchers]) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const stderrMatch = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (re.test(text)) {
          watchers.splice(watchers.indexOf(check), 1);
          resolve();
        }
      };
      watchers.push(check);
      void exited.then(() => reject(new Error(`the program exited before printing ${re}; stderr:\n${text}`)));
      check();
    });
  await stderrMatch(/Debugger listening on ws:\S+/);
  return { child, url: parseListeningLine(text)!, stderr: () => text, stderrMatch, exited };
}

/** Fails when `promise` has not settled within `ms` (a bound on a hang, not a sleep). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** 1-based line of the marker comment in a fixture. */
function lineOf(fixture: string, marker: string): number {
  const lines = fs.readFileSync(path.join(fixtures, fixture), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(`// ${marker}`));
  assert.ok(index >= 0, `marker ${marker} in ${fixture}`);
  return index + 1;
}

/** Lets threads.js go: slot 2 = 1, seen by a spinning worker, which wakes the rest. */
async function release(url: string): Promise<void> {
  const connection = await CdpConnection.connect(url);
  try {
    await connection.send('Runtime.evaluate', { expression: 'Atomics.store(globalThis.__slots, 2, 1)' });
  } finally {
    connection.close();
    await connection.closed;
  }
}

function thread(dump: ThreadDump, name: string): ThreadDumpEntry {
  const found = dump.threads.find((t) => t.name === name);
  assert.ok(found, `thread ${name} in ${JSON.stringify(dump.threads.map((t) => t.name))}`);
  return found;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

void test('thread dump: main blocked in Atomics.wait, a worker blocked, a worker spinning — each with its fixture line', async (t) => {
  const program = await launch(t, 'threads.js', ['2']);
  await program.stderrMatch(/READY/);
  const dump = await takeThreadDump(program.url, { timeoutMs: 5000 });
  t.diagnostic(`dump of main + 2 workers took ${dump.tookMs} ms`);
  assert.equal(dump.pid, program.child.pid);
  assert.deepEqual(dump.threads.map((th) => th.name), ['main', 'waiter-0', 'spinner-1']);
  assert.deepEqual(dump.threads.map((th) => th.error), [undefined, undefined, undefined]);
  const file = path.join(fixtures, 'threads.js');
  const main = thread(dump, 'main');
  assert.equal(main.threadId, 0);
  assert.equal(main.state, 'blocked');
  assert.equal(main.blockedIn, 'Atomics.wait');
  assert.deepEqual({ ...main.stack[0], column: 0 }, { file, line: lineOf('threads.js', '@main-wait'), column: 0, functionName: 'blockMain' });
  const waiter = thread(dump, 'waiter-0');
  assert.equal(waiter.state, 'blocked');
  assert.equal(waiter.stack[0].line, lineOf('threads.js', '@waiter-wait'));
  assert.equal(waiter.stack[0].functionName, 'waiter');
  assert.equal(waiter.title, `[worker ${waiter.threadId}] waiter-0`);
  const spinner = thread(dump, 'spinner-1');
  assert.equal(spinner.state, 'running');
  assert.equal(spinner.stack[0].line, lineOf('threads.js', '@spinner-loop'));
  assert.equal(spinner.stack[0].functionName, 'spinner');
  assert.notEqual(waiter.threadId, spinner.threadId);
  assert.ok(waiter.threadId > 0 && spinner.threadId > 0);

  // Dump, then let go: the program must be able to finish normally, not wait for a debugger.
  await release(program.url);
  const exit = await within(program.exited, 5000, 'the program exits after the dump');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(program.stderr(), /MAIN RELEASED/);
});

void test('thread dump while main spins in a busy loop: main is interrupted and shows its line', async (t) => {
  const program = await launch(t, 'threads.js', ['2', 'main-spins']);
  await program.stderrMatch(/READY/);
  const dump = await takeThreadDump(program.url, { timeoutMs: 5000 });
  assert.deepEqual(dump.threads.map((th) => [th.name, th.state, th.stack[0]?.line, th.error]), [
    ['main', 'running', lineOf('threads.js', '@main-spin'), undefined],
    ['waiter-0', 'blocked', lineOf('threads.js', '@waiter-wait'), undefined],
    ['spinner-1', 'running', lineOf('threads.js', '@spinner-loop'), undefined],
  ]);
  await release(program.url);
  assert.deepEqual(await within(program.exited, 5000, 'the program exits after the dump'), { code: 0, signal: null });
});

void test('thread dump of main + 4 workers: timing, and repeated dumps leave the program healthy', async (t) => {
  const program = await launch(t, 'threads.js', ['4']);
  await program.stderrMatch(/READY/);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const dump = await takeThreadDump(program.url, { timeoutMs: 5000 });
    assert.equal(dump.threads.length, 5);
    assert.deepEqual(dump.threads.filter((th) => th.error).map((th) => th.error), []);
    assert.deepEqual(dump.threads.map((th) => th.state), ['blocked', 'blocked', 'running', 'blocked', 'running']);
    times.push(dump.tookMs);
  }
  t.diagnostic(`dump of main + 4 workers: ${times.join(', ')} ms`);
  await release(program.url);
  assert.deepEqual(await within(program.exited, 5000, 'the program exits after five dumps'), { code: 0, signal: null });
});

void test('thread dump while a worker has its own inspector open: the program can still exit (PLATFORM-FACTS hazard)', async (t) => {
  const program = await launch(t, 'threads.js', ['2', 'open-inspector']);
  await program.stderrMatch(/READY/);
  const dump = await takeThreadDump(program.url, { timeoutMs: 5000 });
  assert.equal(dump.threads.length, 3);
  await release(program.url);
  assert.deepEqual(await within(program.exited, 5000, 'the program exits after the dump'), { code: 0, signal: null });
});

void test('thread dump of a main thread in a system call: main is listed with an error, the dump returns in time', async (t) => {
  const program = await launch(t, 'syscall.js');
  await program.stderrMatch(/READY/);
  const started = Date.now();
  const dump = await takeThreadDump(program.url, { timeoutMs: 700 });
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  assert.deepEqual(dump.threads.map((th) => [th.name, th.error]), [['main', NO_ANSWER]]);
  assert.match(dump.notes.join('\n'), /workers could not be listed/);
});

void test('thread dump of a worker in a system call: the worker is listed with an error, main with its stack', async (t) => {
  const program = await launch(t, 'syscall.js', ['worker']);
  await program.stderrMatch(/READY/);
  const dump = await takeThreadDump(program.url, { timeoutMs: 700 });
  assert.deepEqual(dump.threads.map((th) => [th.name, th.state, th.error]), [
    ['main', 'idle', undefined],
    ['sleeper', undefined, NO_ANSWER],
  ]);
  assert.equal(dump.threads[1].threadId, 1, 'the threadId comes from the title when the worker cannot answer');
});

void test('pipelined calls to main and to a worker each get their own answer, sequential ones too', async (t) => {
  const program = await launch(t, 'idle.js');
  await program.stderrMatch(/READY/);
  const connection = await CdpConnection.connect(program.url);
  t.after(() => connection.close());
  const attached = connection.waitFor('NodeWorker.attachedToWorker');
  await connection.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
  const worker = connection.session((await attached).sessionId)!;
  const n = 10;
  // Each call asks its thread for something only that call and that thread can answer, so a
  // mixed-up id or session shows as a wrong value.
  const ask = (client: CdpConnection | typeof worker, i: number) =>
    client.send('Runtime.evaluate', { expression: `String(${i}) + ':' + require('node:worker_threads').threadId`, includeCommandLineAPI: true }).then((r) => r.result.value as string);
  const expected = (threadId: number) => Array.from({ length: n }, (_, i) => `${i}:${threadId}`);
  const started = performance.now();
  const sequential: string[] = [];
  for (let i = 0; i < n; i++) sequential.push(await ask(worker, i));
  const sequentialMs = (performance.now() - started) / n;
  const pipelinedAt = performance.now();
  const [mainAnswers, workerAnswers] = await Promise.all([
    Promise.all(Array.from({ length: n }, (_, i) => ask(connection, i))),
    Promise.all(Array.from({ length: n }, (_, i) => ask(worker, i))),
  ]);
  const pipelinedMs = (performance.now() - pipelinedAt) / (2 * n);
  assert.deepEqual(sequential, expected(1));
  assert.deepEqual(mainAnswers, expected(0));
  assert.deepEqual(workerAnswers, expected(1));
  // Figures only (tests never assert timings; PLATFORM-FACTS has the measured round trips).
  t.diagnostic(`ms per call: worker sequential ${sequentialMs.toFixed(2)}, main + worker pipelined ${pipelinedMs.toFixed(2)}`);
  await worker.detach();
});

void test('a target that dies mid-call fails pending calls at once, not after the timeout', async (t) => {
  const program = await launch(t, 'idle.js');
  await program.stderrMatch(/READY/);
  const connection = await CdpConnection.connect(program.url);
  const calls = [1, 2, 3].map(() => connection.send('Runtime.evaluate', { expression: 'new Promise(() => {})', awaitPromise: true }, { timeoutMs: 30_000 }));
  const started = Date.now();
  program.child.kill('SIGKILL');
  for (const call of calls) {
    const error = await call.then(() => assert.fail('resolved'), (e: unknown) => e as CdpError);
    assert.ok(error instanceof CdpError);
    assert.equal(error.kind, 'closed');
    assert.match(error.message, /^Runtime\.evaluate on ws:\/\/127\.0\.0\.1:\d+\/[\w-]+: connection closed: /);
  }
  assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
  assert.equal((await connection.closed).byUs, false);
});

void test('a program that finishes while we are connected tells us (NodeRuntime.waitingForDisconnect) and exits once we let go', async (t) => {
  const program = await launch(t, 'idle.js');
  await program.stderrMatch(/READY/);
  const connection = await CdpConnection.connect(program.url);
  await connection.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true });
  const waiting = connection.waitFor('NodeRuntime.waitingForDisconnect', { timeoutMs: 5000 });
  program.child.stdin!.end('quit\n');
  await waiting;
  connection.close();
  assert.deepEqual(await within(program.exited, 5000, 'the program exits once we disconnect'), { code: 0, signal: null });
});

void test('nothing listening: one clear line from every entry point', async () => {
  const port = await freePort();
  await assert.rejects(resolveInspectorTarget(String(port)), { message: `nothing is listening on 127.0.0.1:${port}` });
  await assert.rejects(WebSocketTransport.connect(`ws://127.0.0.1:${port}/x`), { message: `nothing is listening on 127.0.0.1:${port}` });
  await assert.rejects(takeThreadDump(`ws://127.0.0.1:${port}/x`), { message: `nothing is listening on 127.0.0.1:${port}` });
});

void test('an HTTP server that is not an inspector: one clear line', async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url === '/json/list') res.end('<html>hello</html>');
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  await assert.rejects(resolveInspectorTarget(`127.0.0.1:${port}`), { message: `127.0.0.1:${port} is not a Node inspector (/json/list is not JSON)` });
  await assert.rejects(WebSocketTransport.connect(`ws://127.0.0.1:${port}/abc`), { message: `127.0.0.1:${port} is not a Node inspector (HTTP 404 instead of a WebSocket upgrade)` });
  const notFound = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => notFound.listen(0, '127.0.0.1', resolve));
  t.after(() => notFound.close());
  const port2 = (notFound.address() as net.AddressInfo).port;
  await assert.rejects(resolveInspectorTarget(String(port2)), { message: `127.0.0.1:${port2} is not a Node inspector (HTTP 404 for /json/list)` });
});

void test('a TCP server that does not speak HTTP, and one that never answers: one clear line each', async (t) => {
  const garbage = net.createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
  const silent = net.createServer(() => {});
  for (const s of [garbage, silent]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    garbage.close();
    silent.close();
  });
  const gport = (garbage.address() as net.AddressInfo).port;
  const sport = (silent.address() as net.AddressInfo).port;
  await assert.rejects(resolveInspectorTarget(String(gport)), { message: `127.0.0.1:${gport} is not a Node inspector (it does not speak HTTP)` });
  await assert.rejects(WebSocketTransport.connect(`ws://127.0.0.1:${gport}/x`), { message: `127.0.0.1:${gport} is not a Node inspector (it does not speak HTTP)` });
  await assert.rejects(resolveInspectorTarget(String(sport), { timeoutMs: 200 }), { message: `no answer from 127.0.0.1:${sport} within 200 ms (is the program stopped, or not a Node inspector?)` });
  await assert.rejects(WebSocketTransport.connect(`ws://127.0.0.1:${sport}/x`, { timeoutMs: 200 }), { message: `no answer from 127.0.0.1:${sport} within 200 ms (is the program stopped, or not a Node inspector?)` });
});

void test('resolveInspectorTarget finds the ws URL of a real inspector from its port', async (t) => {
  const program = await launch(t, 'idle.js');
  const port = new URL(program.url).port;
  assert.equal(await resolveInspectorTarget(port), program.url);
  assert.equal(await resolveInspectorTarget(`127.0.0.1:${port}`), program.url);
  // Node names the host it was asked for in the URL; the WebSocket to it works too.
  const viaLocalhost = await resolveInspectorTarget(`localhost:${port}`);
  assert.equal(viaLocalhost, program.url.replace('127.0.0.1', 'localhost'));
  const connection = await CdpConnection.connect(viaLocalhost);
  assert.equal((await connection.send('Runtime.evaluate', { expression: '6 * 7' })).result.value, 42);
  connection.close();
  await connection.closed;
  assert.equal(await resolveInspectorTarget(program.url), program.url);
});

// --- attach ----------------------------------------------------------------------------------

const standIn = path.join(fixtures, 'standInAgent.js');

/** Collects what an attachment delivers, and resolves waits on it as it arrives. */
class Received {
  readonly lines: HubLine[] = [];
  readonly snapshots: ThreadSnapshot[] = [];
  readonly problems: string[] = [];
  private waiters: Array<() => void> = [];
  readonly onLine = (line: HubLine): void => {
    this.lines.push(line);
    this.changed();
  };
  readonly onSnapshot = (snapshot: ThreadSnapshot): void => {
    this.snapshots.push(snapshot);
    this.changed();
  };
  readonly onProblem = (message: string): void => {
    this.problems.push(message);
  };
  /** Resolves once `predicate` holds (checked now and on every arrival). */
  until(predicate: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!predicate()) return;
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
      check();
    });
  }
  linesFrom(threadId: number): HubLine[] {
    return this.lines.filter((l) => l.t === threadId);
  }
  private changed(): void {
    for (const w of [...this.waiters]) w();
  }
}

void test('attach: injects into main and running workers, then new workers; lines flow; detach leaves the program running', async (t) => {
  const program = await launch(t, 'idle.js');
  await program.stderrMatch(/READY/);
  const got = new Received();
  const started = performance.now();
  const handle = await attachToTarget(program.url, standIn, got.onLine, { onSnapshot: got.onSnapshot, onProblem: got.onProblem });
  t.diagnostic(`attach (main + 1 worker injected, snapshots in) took ${(performance.now() - started).toFixed(1)} ms`);
  assert.equal(handle.pid, program.child.pid);
  assert.deepEqual(handle.threads(), [0, 1]);
  assert.deepEqual(got.snapshots.map((s) => [s.threadId, s.version, s.events[0].type]).sort(), [[0, 'stand-in', 'hello'], [1, 'stand-in', 'hello']]);
  await within(got.until(() => got.linesFrom(0).length > 0 && got.linesFrom(1).length > 0), 5000, 'lines from main and the worker');
  assert.ok(got.lines.every((l) => l.p === program.child.pid && Array.isArray(l.e)));

  // A worker started after the attach is injected as it attaches.
  await handle.connection.send('Runtime.evaluate', { expression: "startWorker('second')", awaitPromise: true });
  await within(got.until(() => got.snapshots.some((s) => s.threadId === 2) && got.linesFrom(2).length > 0), 5000, 'the new worker is tracked');
  assert.deepEqual(handle.threads(), [0, 1, 2]);

  // A dump over the same connection.
  const dump = await handle.dump({ timeoutMs: 3000 });
  assert.deepEqual(dump.threads.map((th) => [th.threadId, th.name, th.state]), [[0, 'main', 'idle'], [1, 'first', 'idle'], [2, 'second', 'idle']]);

  await handle.detach();
  assert.deepEqual(await handle.closed, { reason: 'detached', detail: 'detached' });
  assert.deepEqual(got.problems, []);
  // Attach again: the agent is already there (its guard keeps one copy); lines flow again.
  const again = new Received();
  const second = await attachToTarget(program.url, standIn, again.onLine, { onSnapshot: again.onSnapshot });
  await within(again.until(() => again.linesFrom(0).length > 0 && again.linesFrom(2).length > 0), 5000, 'lines after a second attach');
  await second.detach();
  // Unharmed: the program still reads stdin and finishes normally.
  program.child.stdin!.end('quit\n');
  assert.deepEqual(await within(program.exited, 5000, 'the program exits after detach'), { code: 0, signal: null });
  assert.doesNotMatch(program.stderr(), /Error|Uncaught/);
});

void test('attach: when the program finishes, closed says so and the program is not kept waiting for us', async (t) => {
  const program = await launch(t, 'idle.js');
  await program.stderrMatch(/READY/);
  const got = new Received();
  const handle = await attachToTarget(program.url, standIn, got.onLine);
  program.child.stdin!.end('quit\n');
  assert.deepEqual(await within(handle.closed, 5000, 'closed after the program ends'), { reason: 'target-exited', detail: 'the program exited' });
  assert.deepEqual(await within(program.exited, 5000, 'the program exits'), { code: 0, signal: null });
  await handle.detach(); // harmless after the end
});

void test('attach: a bundle that throws, a missing bundle, nothing listening: clear errors, and the program is left alone', async (t) => {
  const program = await launch(t, 'idle.js');
  await program.stderrMatch(/READY/);
  const broken = path.join(fixtures, 'throwingAgent.js');
  await assert.rejects(attachToTarget(program.url, broken, () => {}), { message: 'cannot inject the agent into the main thread: Error: agent failed to start' });
  await assert.rejects(attachToTarget(program.url, path.join(fixtures, 'nope.js'), () => {}), { message: `cannot read the agent bundle ${path.join(fixtures, 'nope.js')}: ENOENT (build it with npm run build)` });
  const port = await freePort();
  await assert.rejects(attachToTarget(`ws://127.0.0.1:${port}/x`, standIn, () => {}), { message: `nothing is listening on 127.0.0.1:${port}` });
  program.child.stdin!.end('quit\n');
  assert.deepEqual(await within(program.exited, 5000, 'the program exits after a failed attach'), { code: 0, signal: null });
});

const realBundle = path.join(__dirname, '..', '..', 'dist', 'agent.js');
void test('attach with the real agent bundle (dist/agent.js)', async (t) => {
  assert.ok(fs.existsSync(realBundle), 'dist/agent.js is built (npm test runs npm run build first)');
  const program = await launch(t, 'idle.js');
  await program.stderrMatch(/READY/);
  const got = new Received();
  const handle = await attachToTarget(program.url, realBundle, got.onLine, { onSnapshot: got.onSnapshot, onProblem: got.onProblem });
  assert.deepEqual(handle.threads(), [0, 1]);
  assert.ok(got.snapshots.every((s) => s.events.some((e) => e.type === 'hello')), 'every snapshot has a hello');
  await handle.detach();
  program.child.stdin!.end('quit\n');
  assert.deepEqual(await within(program.exited, 5000, 'the program exits'), { code: 0, signal: null });
});
