import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PUBLISHED_LOCK_CHANNEL, PUBLISHED_QUEUE_CHANNEL } from '../../src/protocol/publishedResources';
import { AGENT_CHANNELS } from '../../src/agent/locks/published';

test('the agent subscribes to the channel names the protocol documents (it repeats them: it may only import types)', () => {
  assert.deepEqual(AGENT_CHANNELS, { lock: PUBLISHED_LOCK_CHANNEL, queue: PUBLISHED_QUEUE_CHANNEL });
});
