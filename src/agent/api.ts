/**
 * The agent's API on globalThis[Symbol.for('gridlock.agent')], for the host's Runtime.evaluate
 * (snapshot, stack on demand, switch to a binding). Non-enumerable, so the program does not see it
 * when it lists globals; its presence is also the double-load guard.
 */
import type { AgentApi } from '../protocol/hubWire';
import type { AgentEvent } from '../protocol/agentEvents';
import type { AgentContext } from './context';
import { bindingSink } from './channel';
import { captureStack } from './stacks';

/** hubWire.AGENT_GLOBAL_KEY. */
export const AGENT_GLOBAL = Symbol.for('gridlock.agent');

export function isAgentLoaded(): boolean {
  return Object.prototype.hasOwnProperty.call(globalThis, AGENT_GLOBAL);
}

/** Claims the global slot (before anything else, so a second copy of the agent backs off). */
export function defineApi(version: string, getContext: () => AgentContext | undefined): void {
  const api: AgentApi = {
    version,
    snapshot(): AgentEvent[] {
      const context = getContext();
      if (context === undefined) return [];
      const events: AgentEvent[] = [];
      if (context.hello) events.push(context.hello);
      if (context.lastSample) events.push(context.lastSample);
      if (context.currentBlock) events.push(context.currentBlock);
      for (const record of context.workers.values()) {
        events.push(record.created);
        if (record.exited) events.push(record.exited);
      }
      for (const record of context.children.values()) {
        events.push(record.spawned);
        if (record.exited) events.push(record.exited);
      }
      return events;
    },
    stackNow() {
      return captureStack(64);
    },
    useBinding(name: string): void {
      const context = getContext();
      if (context !== undefined && typeof name === 'string') context.channel.setSink(bindingSink(name));
    },
  };
  Object.defineProperty(globalThis, AGENT_GLOBAL, { value: Object.freeze(api), enumerable: false, configurable: false, writable: false });
}
