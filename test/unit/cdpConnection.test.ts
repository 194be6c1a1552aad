import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { CdpConnection, DEFAULT_CALL_TIMEOUT_MS, parseWorkerTitle } from '../../src/inspector/cdpConnection';
import { connectToFake, rejection } from './fakes/cdpTestKit';
import { FakeTransport, type SentMessage } from './fakes/fakeTransport';

const setup = connectToFake;

void test('send puts a numbered message on the wire and resolves with the typed result', async () => {
  const { fake, conn } = setup();
  const pending = conn.send('Runtime.evaluate', { expression: '1 + 1', returnByValue: true });
  const sent = fake.last('Runtime.evaluate');
  assert.deepEqual(sent.params, { expression: '1 + 1', returnByValue: true });
  fake.respond(sent.id, { result: { type: 'number', value: 2 } });
  const result = await pending;
  assert.equal(result.result.value, 2);
  assert.equal(conn.pendingCount, 0);
});

void test('commands without params send {}', async () => {
  const { fake, conn } = setup();
  const pending = conn.send('NodeWorker.disable');
  const sent = fake.last('NodeWorker.disable');
  assert.deepEqual(sent.params, {});
  fake.respond(sent.id, {});
  await pending;
});

void test('an error response rejects with the method, the target and the protocol code', async () => {
  const { fake, conn } = setup();
  const pending = conn.send('Runtime.addBinding', { name: 'x' });
  fake.respondError(fake.last('Runtime.addBinding').id, -32601, "'Runtime.addBinding' wasn't found");
  const error = await rejection(pending);
  assert.equal(error.kind, 'protocol');
  assert.equal(error.code, -32601);
  assert.equal(error.method, 'Runtime.addBinding');
  assert.match(error.message, /^Runtime\.addBinding on ws:\/\/127\.0\.0\.1:9229\/test: 'Runtime\.addBinding' wasn't found$/);
});

void test('every call times out (default 5 s), and the error stack shows the caller', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { conn } = setup();
  async function someCallerInTheHost(): Promise<unknown> {
    return conn.send('Runtime.evaluate', { expression: 'while (true) {}' });
  }
  const pending = someCallerInTheHost();
  t.mock.timers.tick(DEFAULT_CALL_TIMEOUT_MS - 1);
  assert.equal(conn.pendingCount, 1);
  t.mock.timers.tick(1);
  const error = await rejection(pending);
  assert.equal(error.kind, 'timeout');
  assert.match(error.message, /Runtime\.evaluate on ws:\/\/127\.0\.0\.1:9229\/test: no answer within 5000 ms/);
  const stack = error.stack ?? '';
  assert.equal(stack.split('\n')[0], `CdpError: ${error.message}`);
  assert.match(stack, /someCallerInTheHost/);
  assert.doesNotMatch(stack.split('\n')[1], /CdpClient\.send|cdpConnection\.ts/, 'the stack starts at the caller, not in send');
  assert.equal(conn.pendingCount, 0);
});

void test('a per-call timeout overrides the default; an answer after the timeout is ignored', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { fake, conn } = setup();
  const pending = conn.send('Runtime.evaluate', { expression: '1' }, { timeoutMs: 50 });
  t.mock.timers.tick(50);
  assert.equal((await rejection(pending)).detail, 'no answer within 50 ms');
  fake.respond(fake.last('Runtime.evaluate').id, { result: { type: 'number', value: 1 } });
  assert.equal(conn.pendingCount, 0);
});

void test('a call without a finite timeout is refused: every call must end', async () => {
  const { conn } = setup();
  for (const timeoutMs of [Infinity, 0, -1, NaN]) {
    const error = await rejection(conn.send('Runtime.evaluate', { expression: '1' }, { timeoutMs }));
    assert.match(error.message, /bad timeout/);
  }
  assert.equal(conn.pendingCount, 0);
});

void test('close fails every pending call at once with "connection closed", is idempotent, and later calls fail at once', async () => {
  const { fake, conn } = setup();
  const calls = [conn.send('Runtime.evaluate', { expression: '1' }), conn.send('NodeWorker.enable', { waitForDebuggerOnStart: false }), conn.send('Runtime.addBinding', { name: 'b' })];
  let ended = 0;
  conn.onEnded(() => ended++);
  conn.close();
  conn.close();
  for (const call of calls) {
    const error = await rejection(call);
    assert.equal(error.kind, 'closed');
    assert.match(error.message, /connection closed$/);
  }
  assert.equal(fake.closeCalls, 1);
  assert.equal(ended, 1);
  assert.equal((await rejection(conn.send('Runtime.evaluate', { expression: '2' }))).detail, 'connection closed');
  assert.equal((await conn.closed).byUs, true);
});

void test('when the target drops the connection, pending calls fail at once with the reason', async () => {
  const { fake, conn } = setup();
  const pending = conn.send('Runtime.evaluate', { expression: '1' });
  let closeInfo: unknown;
  conn.onClose((info) => (closeInfo = info));
  fake.drop();
  const error = await rejection(pending);
  assert.equal(error.kind, 'closed');
  assert.match(error.message, /connection closed: the target dropped the connection/);
  assert.deepEqual(closeInfo, await conn.closed);
  assert.equal(conn.ended, true);
});

void test('events reach typed listeners; dispose stops them; a throwing listener does not stop the others', async () => {
  const { fake, conn } = setup();
  const payloads: string[] = [];
  const errors: unknown[] = [];
  conn.onListenerError((error) => errors.push(error));
  conn.on('Runtime.bindingCalled', () => {
    throw new Error('listener bug');
  });
  const sub = conn.on('Runtime.bindingCalled', (event) => payloads.push(`${event.name}:${event.payload}`));
  fake.emit('Runtime.bindingCalled', { name: 'b', payload: 'one', executionContextId: 1 });
  sub.dispose();
  fake.emit('Runtime.bindingCalled', { name: 'b', payload: 'two', executionContextId: 1 });
  assert.deepEqual(payloads, ['b:one']);
  assert.equal(errors.length, 2);
  assert.match(String(errors[0]), /listener bug/);
});

void test('events without params, unknown ids and malformed messages are harmless', async () => {
  const { fake, conn } = setup();
  let waiting = 0;
  conn.on('NodeRuntime.waitingForDisconnect', () => waiting++);
  fake.emit('NodeRuntime.waitingForDisconnect');
  fake.respond(999, {});
  fake.deliverRaw('not json');
  fake.deliverRaw('null');
  assert.equal(waiting, 1);
  const pending = conn.send('Runtime.evaluate', { expression: '1' });
  fake.respond(fake.last('Runtime.evaluate').id, { result: { type: 'undefined' } });
  await pending;
});

void test('pipelining: many calls in flight, answered out of order, each gets its own answer', async () => {
  const { fake, conn } = setup();
  const calls = Array.from({ length: 100 }, (_, i) => conn.send('Runtime.evaluate', { expression: String(i), returnByValue: true }));
  assert.equal(conn.pendingCount, 100);
  const sent = fake.sent.filter((m) => m.method === 'Runtime.evaluate');
  assert.equal(new Set(sent.map((m) => m.id)).size, 100);
  for (const m of [...sent].reverse()) fake.respond(m.id, { result: { type: 'number', value: Number(m.params.expression) } });
  const values = (await Promise.all(calls)).map((r) => r.result.value);
  assert.deepEqual(values, Array.from({ length: 100 }, (_, i) => i));
});

void test('waitFor resolves on the matching event, and rejects on close', async () => {
  const { fake, conn } = setup();
  const waiting = conn.waitFor('Runtime.bindingCalled', { filter: (e) => e.payload === 'wanted' });
  fake.emit('Runtime.bindingCalled', { name: 'b', payload: 'other', executionContextId: 1 });
  fake.emit('Runtime.bindingCalled', { name: 'b', payload: 'wanted', executionContextId: 1 });
  assert.equal((await waiting).payload, 'wanted');
  const never = conn.waitFor('NodeRuntime.waitingForDisconnect');
  fake.drop();
  assert.equal((await rejection(never)).kind, 'closed');
});

void test('waitFor times out with an error naming the event', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { conn } = setup();
  const waiting = conn.waitFor('NodeWorker.attachedToWorker', { timeoutMs: 100 });
  t.mock.timers.tick(100);
  const error = await rejection(waiting);
  assert.match(error.message, /NodeWorker\.attachedToWorker on .*: event not received within 100 ms/);
});

void test('parseWorkerTitle reads the threadId and the name', () => {
  assert.deepEqual(parseWorkerTitle('[worker 3] pool worker'), { threadId: 3, name: 'pool worker' });
  assert.deepEqual(parseWorkerTitle('[worker 12]'), { threadId: 12, name: '' });
  assert.equal(parseWorkerTitle('main'), undefined);
});

void test('ACK nudges: while calls are pending, one tiny message follows an incoming batch we did not answer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const fake = new FakeTransport();
  const conn = new CdpConnection(fake, { name: 'ws://x', ackNudges: true });
  const nudges = (): SentMessage[] => fake.sent.filter((m) => m.method === 'Gridlock.ack');
  const first = conn.send('Runtime.evaluate', { expression: '1' });
  const second = conn.send('Runtime.evaluate', { expression: '2' });
  const [a, b] = fake.sent;
  fake.respond(a.id, { result: { type: 'number', value: 1 } });
  fake.emit('Runtime.bindingCalled', { name: 'x', payload: 'p', executionContextId: 1 });
  t.mock.timers.tick(0);
  await first;
  assert.equal(nudges().length, 1, 'one nudge for the batch');
  assert.ok(nudges()[0].id > b.id, 'a normal (small integer) id: the inspector rejects others');
  // An incoming message followed by a send of ours: the ACK rode on the send, no nudge.
  fake.emit('Runtime.bindingCalled', { name: 'x', payload: 'p', executionContextId: 1 });
  const third = conn.send('Runtime.evaluate', { expression: '3' });
  t.mock.timers.tick(0);
  assert.equal(nudges().length, 1);
  for (const m of fake.sent.filter((x) => x.method === 'Runtime.evaluate')) if (m.id !== a.id) fake.respond(m.id, { result: { type: 'number', value: Number(m.params.expression) } });
  assert.equal((await second).result.value, 2);
  assert.equal((await third).result.value, 3);
  // Nothing pending any more: incoming messages send nothing.
  fake.emit('Runtime.bindingCalled', { name: 'x', payload: 'p', executionContextId: 1 });
  t.mock.timers.tick(0);
  assert.equal(nudges().length, 1);
});

void test('ACK nudges: answers to nudges chain a few more, then with a doubling delay, then stop however long a call stays pending', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const fake = new FakeTransport();
  const conn = new CdpConnection(fake, { name: 'ws://x', ackNudges: true });
  const nudges = (): SentMessage[] => fake.sent.filter((m) => m.method === 'Gridlock.ack');
  let answered = 0;
  const answerNudges = (): void => {
    for (const n of nudges().slice(answered)) fake.respondError(n.id, -32601, "'Gridlock.ack' wasn't found");
    answered = nudges().length;
  };
  const pending = conn.send('Runtime.evaluate', { expression: 'new Promise(() => {})', awaitPromise: true }, { timeoutMs: 60_000 });
  fake.emit('Runtime.bindingCalled', { name: 'x', payload: 'p', executionContextId: 1 });
  const sentAt: number[] = [];
  for (let ms = 0; ms < 1000; ms++) {
    t.mock.timers.tick(1);
    if (nudges().length > answered) sentAt.push(ms);
    answerNudges();
  }
  // The first two answers are followed at once (the real answer is likely right behind them), then 1, 2, 4, 8, 16 ms.
  assert.deepEqual(sentAt.map((ms, i) => (i === 0 ? 0 : ms - sentAt[i - 1])), [0, 1, 1, 1, 2, 4, 8, 16]);
  assert.equal(conn.pendingCount, 1, 'the answers to nudges did not touch the real call');
  conn.close();
  await pending.catch(() => undefined);
});

void test('no ACK nudges unless asked for (other transports, e.g. a debugger proxy, may not want them)', async () => {
  const { fake, conn } = setup();
  const pending = conn.send('Runtime.evaluate', { expression: '1' });
  fake.emit('Runtime.bindingCalled', { name: 'x', payload: 'p', executionContextId: 1 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(fake.sent.map((m) => m.method), ['Runtime.evaluate']);
  fake.respond(fake.sent[0].id, { result: { type: 'undefined' } });
  await pending;
});
