// A thread that meets a published shared lock or queue by using it (another thread created it)
// says so in its resource-created event, so that the creator's event names it in the model.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as asyncHooks from 'node:async_hooks';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { fakeAgentContext } from './fakes/agentContext';
import type { ResourceCreatedEvent, ResourceEvent } from '../../src/protocol/resourceEvents';
import { LockTracker } from '../../src/agent/locks/tracker';
import { Tasks } from '../../src/agent/locks/tasks';
import { PendingWaits } from '../../src/agent/pending';
import { AGENT_CHANNELS, installPublishedResources } from '../../src/agent/locks/published';

test('published resources met by use are announced as seen by use; created ones are not', () => {
  const events: ResourceEvent[] = [];
  const tracker = new LockTracker(fakeAgentContext((e) => events.push(e)), new Tasks('7:0', asyncHooks), new PendingWaits(() => true), undefined, undefined);
  const timers = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref() };
  installPublishedResources(tracker, diagnosticsChannel, timers);
  const queues = diagnosticsChannel.channel(AGENT_CHANNELS.queue);
  const locks = diagnosticsChannel.channel(AGENT_CHANNELS.lock);
  queues.publish({ queue: {}, id: 'jobs', op: 'enqueue', item: 1 });
  queues.publish({ queue: {}, id: 'results', op: 'create', name: 'results', concurrency: 2 });
  queues.publish({ queue: {}, op: 'enqueue', item: 1 });
  locks.publish({ lock: {}, id: 'ledger', op: 'acquired' });
  locks.publish({ lock: {}, id: 'audit', op: 'create', name: 'audit' });
  const created = events.filter((e): e is ResourceCreatedEvent => e.type === 'resource-created');
  assert.deepEqual(
    created.map((e) => [e.resourceId.replace(/^7:0:r\d+$/, 'local'), e.seenByUse === true]),
    [
      ['published:jobs', true],
      ['published:results', false],
      ['local', false],
      ['published:ledger', true],
      ['published:audit', false],
    ],
  );
});
