/**
 * A thread's AgentContext for unit tests of the lock tracker: thread 0 of pid 7, a channel that
 * flushes nothing, events handed to `emit`, and the clock `now`.
 */
import type { AgentContext } from '../../../src/agent/context';
import type { ResourceEvent } from '../../../src/protocol/resourceEvents';

export function fakeAgentContext(emit: (event: ResourceEvent) => void = () => undefined, now: () => number = () => 1000): AgentContext {
  return {
    identity: { via: 'preload', pid: 7, threadId: 0, isMainThread: true },
    channel: { flush: () => undefined },
    beforeDrain: new Set<() => void>(),
    flushAtExit: new Set<() => void>(),
    now,
    emit,
  } as unknown as AgentContext;
}
