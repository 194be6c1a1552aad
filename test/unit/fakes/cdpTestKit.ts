import * as assert from 'node:assert/strict';
import { CdpConnection, CdpError } from '../../../src/inspector/cdpConnection';
import { FakeTransport } from './fakeTransport';

/** A connection over a fresh fake transport (options as CdpConnection takes them). */
export function connectToFake(options: { defaultTimeoutMs?: number } = {}): { fake: FakeTransport; conn: CdpConnection } {
  const fake = new FakeTransport();
  const conn = new CdpConnection(fake, { name: 'ws://127.0.0.1:9229/test', ...options });
  return { fake, conn };
}

/** The CdpError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<CdpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CdpError, `expected a CdpError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the promise to reject');
}
