/**
 * The end of a thread: `drain` when its loop ran out of work while tracked waits were still
 * pending, `exit` with the exit code and the uncaught error, and the last synchronous flush.
 * The listeners only write to the channel: they schedule nothing, so they change neither when nor
 * how the thread exits (a 'beforeExit' listener that scheduled work would loop).
 */
import type { DrainEvent, ExitEvent, PendingWait } from '../protocol/agentEvents';
import type { AgentContext } from './context';
import type { PendingWaits } from './pending';
import { describeError, stripAgentFrames } from './stacks';

/** Node's exit code for an unsettled top-level await. */
const EXIT_UNSETTLED_TLA = 13;
/** How long `exit` may wait for a full pipe to take the last lines. */
const EXIT_FLUSH_WAIT_MS = 100;

export function installLifecycleHooks(context: AgentContext, pending: PendingWaits, whenExited: () => void): void {
  let lastDrain = '';

  const sendDrain = (exitCode: number, waits: PendingWait[]): void => {
    const key = `${exitCode}:${waits.length}`;
    if (key === lastDrain) return;
    lastDrain = key;
    const event: DrainEvent = { type: 'drain', ts: context.now(), exitCode, pending: waits };
    context.channel.sendQuietly(event);
    context.channel.flush();
  };

  const sendHeldBack = (): void => {
    for (const send of context.beforeDrain) {
      try {
        send();
      } catch {
        // the drain still goes
      }
    }
  };

  const currentExitCode = (given: unknown): number => {
    // Node 20 passes 0 to 'exit' for an unsettled top-level await but has set process.exitCode to 13.
    const set = Number(process.exitCode);
    if (process.exitCode !== undefined && process.exitCode !== null && Number.isInteger(set)) return set;
    return typeof given === 'number' ? given : 0;
  };

  process.on('beforeExit', (code: number) => {
    try {
      // Be the last 'exit' listener: Node 20 sets exit code 13 (unsettled top-level await) in an
      // 'exit' listener of its own, registered after the agent's.
      process.removeListener('exit', onExit);
      process.on('exit', onExit);
      sendHeldBack();
      const waits = pending.list();
      if (waits.length > 0) sendDrain(currentExitCode(code), waits);
    } catch {
      // never into the program
    }
  });

  process.on('uncaughtExceptionMonitor', (error: unknown, origin: string) => {
    try {
      // The program's crash output must be the one it prints without the agent's wrapper frames.
      stripAgentFrames(error);
      const handled = origin === 'unhandledRejection' ? process.listenerCount('unhandledRejection') > 0 : false;
      if (!handled && process.listenerCount('uncaughtException') === 0) context.uncaughtError = describeError(error);
    } catch {
      // never into the program
    }
  });

  const onExit = (code: number): void => {
    try {
      if (context.exitSent) return;
      context.exitSent = true;
      const exitCode = currentExitCode(code);
      sendHeldBack();
      const waits = pending.list();
      if (exitCode === EXIT_UNSETTLED_TLA) {
        waits.push({ kind: 'top-level-await', description: 'unsettled top-level await', since: context.now() });
      }
      if (waits.length > 0 && (lastDrain !== '' || exitCode === EXIT_UNSETTLED_TLA)) sendDrain(exitCode, waits);
      for (const flush of context.flushAtExit) {
        try {
          flush();
        } catch {
          // the exit event still goes
        }
      }
      const event: ExitEvent = { type: 'exit', ts: context.now(), exitCode };
      if (context.uncaughtError !== undefined) event.error = context.uncaughtError;
      context.channel.sendQuietly(event);
      context.channel.flushHard(EXIT_FLUSH_WAIT_MS);
      whenExited();
    } catch {
      // never into the program
    }
  };
  process.on('exit', onExit);
}
