import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isLoopbackHost, parseListeningLine, parseTarget, resolveInspectorTarget } from '../../src/inspector/inspectorTarget';
import { describeNetError } from '../../src/inspector/wsTransport';

void test('parseTarget understands port, host:port, [v6]:port, http:// and ws:// forms', () => {
  assert.deepEqual(parseTarget('9229'), { kind: 'http', host: '127.0.0.1', port: 9229 });
  assert.deepEqual(parseTarget(' localhost:9230 '), { kind: 'http', host: 'localhost', port: 9230 });
  assert.deepEqual(parseTarget('[::1]:9229'), { kind: 'http', host: '::1', port: 9229 });
  assert.deepEqual(parseTarget('http://127.0.0.1:9229'), { kind: 'http', host: '127.0.0.1', port: 9229 });
  assert.deepEqual(parseTarget('ws://127.0.0.1:9229/abc-def'), { kind: 'ws', url: 'ws://127.0.0.1:9229/abc-def', host: '127.0.0.1', port: 9229 });
});

void test('parseTarget refuses what is not an address, with one line saying what is accepted', () => {
  for (const bad of ['', 'abc', '99999', '0', 'host:', 'host:port', 'ftp://x:1', '1.2.3.4:70000']) {
    assert.throws(() => parseTarget(bad), (error: Error) => /is not an inspector address: give a port \(9229\), host:port \(127\.0\.0\.1:9229\) or a ws:\/\/ URL$/.test(error.message) && !error.message.includes('\n'), bad);
  }
  assert.throws(() => parseTarget('wss://127.0.0.1:9229/x'), /speaks plain ws, not wss/);
});

void test('isLoopbackHost accepts only loopback', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '10.0.0.5', '192.168.1.2', 'example.com', '::', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
});

void test('resolveInspectorTarget refuses remote hosts unless allowed, before any network traffic', async () => {
  await assert.rejects(resolveInspectorTarget('10.1.2.3:9229'), /^Error: refusing to connect to 10\.1\.2\.3:9229: not a loopback address/);
  await assert.rejects(resolveInspectorTarget('ws://example.com:9229/x'), /refusing to connect to example\.com:9229/);
  assert.equal(await resolveInspectorTarget('ws://example.com:9229/x', { allowRemote: true }), 'ws://example.com:9229/x');
  assert.equal(await resolveInspectorTarget('ws://127.0.0.1:9229/x'), 'ws://127.0.0.1:9229/x');
});

void test('parseListeningLine finds the ws URL in node --inspect stderr', () => {
  const stderr = 'Debugger listening on ws://127.0.0.1:40123/0f1e2d3c-aaaa-bbbb-cccc-111122223333\nFor help, see: https://nodejs.org/en/docs/inspector\n';
  assert.equal(parseListeningLine(stderr), 'ws://127.0.0.1:40123/0f1e2d3c-aaaa-bbbb-cccc-111122223333');
  assert.equal(parseListeningLine('Debugger attached.\n'), undefined);
});

void test('describeNetError turns socket errors into one actionable line', () => {
  const err = (code: string, message = code): Error & { code: string } => Object.assign(new Error(message), { code });
  assert.equal(describeNetError(err('ECONNREFUSED'), '127.0.0.1:9229'), 'nothing is listening on 127.0.0.1:9229');
  assert.equal(describeNetError(new Error('Unexpected server response: 404'), '127.0.0.1:8080'), '127.0.0.1:8080 is not a Node inspector (HTTP 404 instead of a WebSocket upgrade)');
  assert.equal(describeNetError(err('HPE_INVALID_CONSTANT', 'Parse Error: Expected HTTP/'), '127.0.0.1:22'), '127.0.0.1:22 is not a Node inspector (it does not speak HTTP)');
  assert.match(describeNetError(err('ECONNRESET'), '127.0.0.1:1'), /closed the connection before answering/);
});
