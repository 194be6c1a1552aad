// WaitingItems: a tracked queue's waiting items in queue order, with items taken out anywhere, and
// memory bounded by the items still waiting.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { QueueItem } from '../../src/agent/locks/waitingItems';
import { WaitingItems } from '../../src/agent/locks/waitingItems';

const item = (n: number): QueueItem => ({ id: `i${n}`, ts: n, detailed: false, waiting: false });

test('items leave in any order; the first is always the oldest still waiting, and a front item goes first', () => {
  const waiting = new WaitingItems();
  const items = [1, 2, 3, 4].map(item);
  for (const i of items) waiting.add(i);
  assert.equal(waiting.size, 4);
  assert.equal(waiting.first(), items[0]);
  assert.equal(waiting.delete(items[1]), true, 'from the middle');
  assert.equal(waiting.delete(items[1]), false, 'not twice');
  assert.equal(waiting.first(), items[0]);
  assert.equal(waiting.delete(items[0]), true);
  assert.equal(waiting.first(), items[2], 'the middle one that left is skipped');
  const urgent = item(9);
  waiting.add(urgent, true);
  assert.equal(waiting.first(), urgent);
  assert.equal(waiting.size, 3);
  waiting.clear();
  assert.equal(waiting.size, 0);
  assert.equal(waiting.first(), undefined);
  assert.equal(items[3].waiting, false, 'cleared items are no longer waiting');
  assert.equal(waiting.delete(items[3]), false);
});

test('memory follows the waiting items: one that never starts does not keep the ones that left behind it', () => {
  const waiting = new WaitingItems();
  const stuck = item(0);
  waiting.add(stuck);
  for (let n = 1; n <= 100_000; n++) {
    const i = item(n);
    waiting.add(i);
    waiting.delete(i);
  }
  const kept = (waiting as unknown as { items: QueueItem[] }).items.length;
  assert.ok(kept <= 2048, `${kept} items kept for 1 waiting`);
  assert.equal(waiting.size, 1);
  assert.equal(waiting.first(), stuck);
  // A long queue drained from its head keeps nothing it has passed.
  const drained = new WaitingItems();
  const all = Array.from({ length: 10_000 }, (_, n) => item(n));
  for (const i of all) drained.add(i);
  for (const i of all.slice(0, 9_999)) drained.delete(i);
  assert.equal(drained.first(), all[9_999]);
  assert.ok((drained as unknown as { items: QueueItem[] }).items.length <= 2048);
});
