import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { CdpSession } from '../../src/inspector/cdpConnection';
import { connectToFake, rejection } from './fakes/cdpTestKit';

const setup = connectToFake;

void test('attachedToWorker creates a session before the event listeners run', () => {
  const { fake, conn } = setup();
  const seen: Array<CdpSession | undefined> = [];
  conn.on('NodeWorker.attachedToWorker', (e) => seen.push(conn.session(e.sessionId)));
  const announced: CdpSession[] = [];
  conn.onSession((s) => announced.push(s));
  fake.attachWorker('s1', '[worker 4] pool');
  assert.equal(seen.length, 1);
  const session = seen[0]!;
  assert.equal(announced[0], session);
  assert.equal(session.sessionId, 's1');
  assert.equal(session.threadId, 4);
  assert.equal(session.workerName, 'pool');
  assert.match(session.name, /^\[worker 4\] pool via ws:\/\/127\.0\.0\.1:9229\/test$/);
  assert.deepEqual(conn.sessions(), [session]);
});

void test('a session send travels in NodeWorker.sendMessageToWorker; its answer comes from receivedMessageFromWorker', async () => {
  const { fake, conn } = setup();
  fake.attachWorker('s1', '[worker 1] a');
  fake.attachWorker('s2', '[worker 2] b');
  const s1 = conn.session('s1')!;
  const s2 = conn.session('s2')!;
  const a = s1.send('Runtime.evaluate', { expression: 'threadId', returnByValue: true });
  const b = s2.send('Runtime.evaluate', { expression: 'threadId', returnByValue: true });
  const [inner1] = fake.workerMessages('s1');
  const [inner2] = fake.workerMessages('s2');
  assert.equal(inner1.method, 'Runtime.evaluate');
  assert.deepEqual(inner1.params, { expression: 'threadId', returnByValue: true });
  // Ids are per session: the same id in two sessions must not cross.
  assert.equal(inner1.id, inner2.id);
  fake.respondFromWorker('s2', inner2.id, { result: { type: 'number', value: 2 } });
  fake.respondFromWorker('s1', inner1.id, { result: { type: 'number', value: 1 } });
  assert.equal((await a).result.value, 1);
  assert.equal((await b).result.value, 2);
});

void test('worker events are dispatched on the session, not on the connection', () => {
  const { fake, conn } = setup();
  fake.attachWorker('s1', '[worker 1]');
  const onSession: string[] = [];
  const onConnection: string[] = [];
  conn.session('s1')!.on('Runtime.bindingCalled', (e) => onSession.push(e.payload));
  conn.on('Runtime.bindingCalled', (e) => onConnection.push(e.payload));
  fake.emitFromWorker('s1', 'Runtime.bindingCalled', { name: 'b', payload: 'from worker', executionContextId: 1 });
  fake.emit('Runtime.bindingCalled', { name: 'b', payload: 'from main', executionContextId: 1 });
  assert.deepEqual(onSession, ['from worker']);
  assert.deepEqual(onConnection, ['from main']);
});

void test('detachedFromWorker fails the pending calls of that session at once (no timeout needed)', async () => {
  const { fake, conn } = setup();
  fake.attachWorker('s1', '[worker 1]');
  fake.attachWorker('s2', '[worker 2]');
  const s1 = conn.session('s1')!;
  const pending = [s1.send('Runtime.evaluate', { expression: '1' }), s1.send('Runtime.evaluate', { expression: '2' })];
  const other = conn.session('s2')!.send('Runtime.evaluate', { expression: '3' });
  let ended = false;
  s1.onEnded(() => (ended = true));
  fake.detachWorker('s1');
  for (const call of pending) {
    const error = await rejection(call);
    assert.equal(error.kind, 'detached');
    assert.match(error.message, /^Runtime\.evaluate on \[worker 1\] via .*: the worker session detached \(the worker exited\)$/);
  }
  assert.ok(ended);
  assert.equal(conn.session('s1'), undefined);
  assert.equal((await rejection(s1.send('Runtime.evaluate', { expression: '4' }))).kind, 'detached');
  // The other session is untouched.
  fake.respondFromWorker('s2', fake.workerMessages('s2')[0].id, { result: { type: 'number', value: 3 } });
  assert.equal((await other).result.value, 3);
});

void test('a failed carrier call (unknown session) fails the worker call at once', async () => {
  const { fake, conn } = setup();
  fake.autoAckWorkerMessages = false;
  fake.attachWorker('s1', '[worker 1]');
  const pending = conn.session('s1')!.send('Runtime.evaluate', { expression: '1' });
  fake.respondError(fake.last('NodeWorker.sendMessageToWorker').id, -32602, 'Unknown session id');
  const error = await rejection(pending);
  assert.match(error.message, /^Runtime\.evaluate on \[worker 1\] via .*: could not reach the worker: Unknown session id$/);
});

void test('a worker call that gets no answer times out, naming the worker', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { fake, conn } = setup();
  fake.attachWorker('s1', '[worker 7] stuck');
  async function dumpStuckWorker(): Promise<unknown> {
    return conn.session('s1')!.send('Runtime.evaluate', { expression: 'new Error().stack' }, { timeoutMs: 200 });
  }
  const pending = dumpStuckWorker();
  t.mock.timers.tick(200);
  const error = await rejection(pending);
  assert.equal(error.kind, 'timeout');
  assert.match(error.message, /^Runtime\.evaluate on \[worker 7\] stuck via .*: no answer within 200 ms$/);
  assert.match(error.stack ?? '', /dumpStuckWorker/);
});

void test('closing the connection fails every session call with "connection closed"', async () => {
  const { fake, conn } = setup();
  fake.attachWorker('s1', '[worker 1]');
  const pending = conn.session('s1')!.send('Runtime.evaluate', { expression: '1' });
  fake.drop();
  const error = await rejection(pending);
  assert.equal(error.kind, 'closed');
  assert.match(error.detail, /^connection closed: the target dropped/);
  assert.deepEqual(conn.sessions(), []);
});

void test('session.detach sends NodeWorker.detach and fails its calls at once', async () => {
  const { fake, conn } = setup();
  fake.attachWorker('s1', '[worker 1]');
  const session = conn.session('s1')!;
  const pending = session.send('Runtime.evaluate', { expression: '1' });
  const detached = session.detach();
  assert.equal((await rejection(pending)).detail, 'detached by us');
  const sent = fake.last('NodeWorker.detach');
  assert.deepEqual(sent.params, { sessionId: 's1' });
  fake.respond(sent.id, {});
  await detached;
  assert.equal(conn.session('s1'), undefined);
  await session.detach(); // idempotent: nothing more is sent
  assert.equal(fake.sent.filter((m) => m.method === 'NodeWorker.detach').length, 1);
});

void test('many worker calls pipeline: all are on the wire before any answer', async () => {
  const { fake, conn } = setup();
  for (let i = 1; i <= 4; i++) fake.attachWorker(`s${i}`, `[worker ${i}]`);
  const calls = conn.sessions().flatMap((s) => [1, 2, 3].map((n) => s.send('Runtime.evaluate', { expression: String(n) })));
  assert.equal(fake.sent.filter((m) => m.method === 'NodeWorker.sendMessageToWorker').length, 12);
  for (const s of conn.sessions()) for (const m of fake.workerMessages(s.sessionId)) fake.respondFromWorker(s.sessionId, m.id, { result: { type: 'string', value: `${s.sessionId}/${String(m.params.expression)}` } });
  const values = (await Promise.all(calls)).map((r) => r.result.value);
  assert.deepEqual(values, ['s1/1', 's1/2', 's1/3', 's2/1', 's2/2', 's2/3', 's3/1', 's3/2', 's3/3', 's4/1', 's4/2', 's4/3']);
});
