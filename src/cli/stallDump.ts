import type { StackFrames } from '../protocol/agentEvents';
import type { Finding, FindingParticipant } from '../protocol/report';
import { takeThreadDump } from '../inspector/threadDump';
import type { ProcessTree } from '../model/processTree';
import type { StallCheck } from '../model/stallDetector';
import { makeFinding } from '../model/findings';

/** How long a whole thread dump may take before the stall is reported with what arrived. */
const DUMP_TIMEOUT_MS = 3000;

/**
 * Takes a thread dump of every live tracked process (in parallel) and returns the stall finding
 * with a stack for every participant: the dump's stack where one arrived, else the stack the agent
 * recorded when the thread blocked.
 */
export async function addDumpsToStall(tree: ProcessTree, check: Extract<StallCheck, { stalled: true }>): Promise<Finding> {
  // The hang became certain when the last thread fell asleep: the tree's last activity.
  const since = tree.lastActivityAt;
  const stacks = await dumpAll(tree);
  const participants: FindingParticipant[] = check.participants.map((p) => {
    const dumped = stacks.get(`${p.pid}:${p.threadId}`);
    if (p.role === 'exited' || !dumped || dumped.length === 0) return p;
    return { ...p, stack: dumped, site: p.site ?? dumped[0] };
  });
  return { ...makeFinding('stall', 'error', check.message, participants, Date.now()), since };
}

async function dumpAll(tree: ProcessTree): Promise<Map<string, StackFrames>> {
  const stacks = new Map<string, StackFrames>();
  const targets = tree.processes().filter((p) => p.alive && p.tracked && p.inspectorUrl);
  await Promise.all(
    targets.map(async (p) => {
      try {
        const dump = await takeThreadDump(p.inspectorUrl!, { timeoutMs: DUMP_TIMEOUT_MS });
        for (const t of dump.threads) if (t.stack && t.stack.length > 0) stacks.set(`${p.pid}:${t.threadId}`, t.stack);
      } catch {
        // A process that cannot be dumped keeps the stacks its agent recorded.
      }
    }),
  );
  return stacks;
}
