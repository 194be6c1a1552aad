import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { CdpConnection } from '../../src/inspector/cdpConnection';
import { dumpThreads, NO_ANSWER, parseV8Stack, STACK_EXPRESSION } from '../../src/inspector/threadDump';
import { parseAgentLine, wrapAgentSource } from '../../src/inspector/attach';
import { FakeTransport } from './fakes/fakeTransport';

/** Copies a value out of a vm context (its objects have another realm's prototypes). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

const INTERNAL = '    at gridlock-internal:thread-dump:1:81\n    at gridlock-internal:thread-dump:1:139';

void test('parseV8Stack reads frames, drops our evaluation frames, and reports the innermost native frame', () => {
  const raw = `Error\n${INTERNAL}\n    at Atomics.wait (<anonymous>)\n    at waitHere (/app/blk.js:1:31)\n    at Timeout._onTimeout (/app/blk.js:3:89)\n    at listOnTimeout (node:internal/timers:581:17)\n    at process.processTimers (node:internal/timers:519:7)`;
  const parsed = parseV8Stack(raw);
  assert.equal(parsed.top, 'Atomics.wait (<anonymous>)');
  assert.deepEqual(parsed.frames, [
    { file: '/app/blk.js', line: 1, column: 31, functionName: 'waitHere' },
    { file: '/app/blk.js', line: 3, column: 89, functionName: 'Timeout._onTimeout' },
    { file: 'node:internal/timers', line: 581, column: 17, functionName: 'listOnTimeout' },
    { file: 'node:internal/timers', line: 519, column: 7, functionName: 'process.processTimers' },
  ]);
});

void test('parseV8Stack handles anonymous, async, new, eval and file:// frames', () => {
  const raw = [
    'Error',
    '    at file:///app/m.mjs:4:9',
    '    at async Promise.all (index 0)',
    '    at async run (file:///app/m.mjs:10:3)',
    '    at new Pool (/app/pool.js:7:5)',
    '    at eval (eval at boot (/app/b.js:2:1), <anonymous>:1:7)',
    '    at C:\\app\\x.js:5:6',
  ].join('\n');
  assert.deepEqual(parseV8Stack(raw).frames, [
    { file: 'file:///app/m.mjs', line: 4, column: 9 },
    { file: 'file:///app/m.mjs', line: 10, column: 3, functionName: 'run' },
    { file: '/app/pool.js', line: 7, column: 5, functionName: 'new Pool' },
    { file: '<anonymous>', line: 1, column: 7, functionName: 'eval' },
    { file: 'C:\\app\\x.js', line: 5, column: 6 },
  ]);
  assert.deepEqual(parseV8Stack(`Error\n${INTERNAL}`), { frames: [], top: undefined });
});

void test('STACK_EXPRESSION runs without require, restores Error settings, and finds the agent', () => {
  const prepare = (): string => 'custom';
  const context = vm.createContext({ process: { pid: 7 }, Error, Symbol, Array, String, globalThis: undefined });
  vm.runInContext('globalThis = this', context);
  const originalLimit = Error.stackTraceLimit;
  const originalPrepare = Error.prepareStackTrace;
  Error.prepareStackTrace = prepare;
  try {
    const value = vm.runInContext(STACK_EXPRESSION, context) as { pid: number; raw: string; frames?: unknown };
    assert.equal(value.pid, 7);
    assert.match(value.raw, /^Error\n\s+at gridlock-internal:thread-dump/, 'the default formatter, not the user one');
    assert.equal(value.frames, undefined);
    assert.equal(Error.prepareStackTrace, prepare);
    assert.equal(Error.stackTraceLimit, originalLimit);
    vm.runInContext(`globalThis[Symbol.for('gridlock.agent')] = { stackNow: () => [{ file: '/a.js', line: 1, column: 2 }] }`, context);
    const withAgent = vm.runInContext(STACK_EXPRESSION, context) as { frames?: unknown };
    assert.deepEqual(plain(withAgent.frames), [{ file: '/a.js', line: 1, column: 2 }]);
  } finally {
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = originalPrepare;
  }
});

/** A fake process: main blocked in Atomics.wait, worker 1 spinning, worker 2 never answering. */
function scriptedProcess(fake: FakeTransport): void {
  const value = (threadId: number, frames: string): unknown => ({ result: { type: 'object', value: { pid: 42, threadId, raw: `Error\n${INTERNAL}\n${frames}` } } });
  fake.onSent((m) => {
    if (m.method === 'Runtime.evaluate') fake.respond(m.id, value(0, '    at Atomics.wait (<anonymous>)\n    at main (/app/main.js:9:3)'));
    if (m.method === 'NodeWorker.enable') {
      fake.attachWorker('s2', '[worker 2] stuck');
      fake.attachWorker('s1', '[worker 1] spinner');
      fake.respond(m.id, {});
    }
    if (m.method === 'NodeWorker.sendMessageToWorker' && m.params.sessionId === 's1') {
      const inner = JSON.parse(m.params.message as string) as { id: number };
      fake.respondFromWorker('s1', inner.id, value(1, '    at spin (/app/w.js:4:12)'));
    }
  });
}

void test('dumpThreads probes main and every worker in one burst; a silent thread gets an error, not a failed dump', async () => {
  const fake = new FakeTransport();
  scriptedProcess(fake);
  const conn = new CdpConnection(fake, { name: 'ws://127.0.0.1:1/x' });
  const dump = await dumpThreads(conn, { timeoutMs: 150, settleMs: 5 });
  assert.equal(dump.pid, 42);
  assert.deepEqual(
    dump.threads.map((t) => ({ id: t.threadId, name: t.name, state: t.state, error: t.error, top: t.stack[0]?.functionName })),
    [
      { id: 0, name: 'main', state: 'blocked', error: undefined, top: 'main' },
      { id: 1, name: 'spinner', state: 'running', error: undefined, top: 'spin' },
      { id: 2, name: 'stuck', state: undefined, error: NO_ANSWER, top: undefined },
    ],
  );
  assert.equal(dump.threads[0].blockedIn, 'Atomics.wait');
  assert.equal(dump.threads[1].via, 'stack-trace');
  // The burst: both worker probes went out before anything was awaited on them.
  const order = fake.sent.map((m) => (m.method === 'NodeWorker.sendMessageToWorker' ? `worker:${String(m.params.sessionId)}` : m.method));
  assert.deepEqual(order, ['Runtime.evaluate', 'NodeWorker.enable', 'worker:s2', 'worker:s1']);
  assert.ok(dump.tookMs < 1000);
});

void test('dumpThreads reports a main thread that does not answer, and says why workers are missing', async () => {
  const fake = new FakeTransport();
  const conn = new CdpConnection(fake, { name: 'ws://127.0.0.1:1/x' });
  const dump = await dumpThreads(conn, { timeoutMs: 80 });
  assert.equal(dump.pid, null);
  assert.deepEqual(dump.threads.map((t) => [t.threadId, t.error]), [[0, NO_ANSWER]]);
  assert.match(dump.notes.join('\n'), /workers could not be listed: the main thread did not answer/);
});

void test('parseAgentLine accepts HubLines and refuses anything else', () => {
  assert.deepEqual(parseAgentLine('{"p":1,"t":0,"s":0,"e":[]}'), { p: 1, t: 0, s: 0, e: [], k: '' });
  for (const bad of ['', 'x', 'null', '[]', '{"p":1,"t":0,"s":0}', '{"p":"1","t":0,"s":0,"e":[]}']) assert.equal(parseAgentLine(bad), undefined, bad);
});

void test('wrapAgentSource runs an IIFE bundle and a CommonJS bundle alike, keeping line numbers', () => {
  const context = vm.createContext({ process: { getBuiltinModule: (id: string) => ({ id }) } });
  vm.runInContext(wrapAgentSource('this.iife = 1;', '/dist/agent.js'), context);
  vm.runInContext(wrapAgentSource('"use strict";\nmodule.exports = { os: require("node:os").id, file: __filename, dir: __dirname };\nglobalThis.cjs = module.exports;', '/dist/agent.js'), context);
  assert.deepEqual(plain(vm.runInContext('globalThis.cjs', context)), { os: 'node:os', file: '/dist/agent.js', dir: '/dist' });
  const line = vm.runInContext(wrapAgentSource('\n\nglobalThis.line = Number(new Error().stack.split("\\n")[1].match(/:(\\d+):\\d+\\)?$/)[1]);', '/dist/agent.js'), context);
  assert.equal(line, undefined);
  assert.equal(vm.runInContext('globalThis.line', context), 3);
});

void test('wrapAgentSource sends only ASCII (a worker never answers an evaluation with other characters), and the code means the same', () => {
  const source = '// a comment the bundler kept: 4× the cost, ~1 µs — fine\nglobalThis.text = "×µ—é"; globalThis.matches = /µ+/.test("µµ");';
  const wrapped = wrapAgentSource(source, '/dist/agent.js');
  assert.match(wrapped, /^[\t\n\r\x20-\x7e]*$/);
  const context = vm.createContext({ process: { getBuiltinModule: (id: string) => ({ id }) } });
  vm.runInContext(wrapped, context);
  assert.equal(vm.runInContext('globalThis.text', context), '×µ—é');
  assert.equal(vm.runInContext('globalThis.matches', context), true);
});
