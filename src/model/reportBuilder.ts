import type { Finding, Report, ReportProcess, ReportResource, ReportThread } from '../protocol/report';
import { REPORT_VERSION } from '../protocol/report';
import type { ProcessTree, ThreadModel } from './processTree';
import { describeSite } from './describe';

/** What the host knows beyond the tree when the run ends: the report's own fields. */
export type RunOutcome = Pick<Report, 'command' | 'exitCode' | 'signal' | 'gridlockExitCode' | 'startedAt' | 'endedAt' | 'findings' | 'notes'> & {
  /** Locks, queues and pools with their holders and waiters (empty when none were tracked). */
  resources?: ReportResource[];
};

/** Builds the JSON report (DESIGN.md "The report") from the tree and the run's outcome. */
export function buildReport(tree: ProcessTree, outcome: RunOutcome): Report {
  const processes: ReportProcess[] = tree.processes().map((p) => ({
    pid: p.pid,
    ppid: p.ppid,
    argv: p.argv,
    startedBy: p.origin ? { method: p.origin.method, site: p.origin.site } : null,
    node: p.node,
    tracked: p.tracked,
    nodeVersion: p.nodeVersion,
    exitCode: p.exitCode,
    signal: p.signal,
    ...(p.stoppedByGridlock && p.signal !== null ? { stoppedByGridlock: true as const } : {}),
    threads: [...p.threads.values()].sort((a, b) => a.threadId - b.threadId).map(reportThread),
  }));
  const notes = [...outcome.notes];
  for (const p of tree.processes()) for (const note of p.notes) notes.push(`pid ${p.pid}: ${note}`);
  if (tree.droppedEvents > 0) notes.push(`${tree.droppedEvents} agent events were dropped (the hub could not keep up)`);
  if (tree.lostLines > 0) notes.push(`${tree.lostLines} hub lines were lost`);
  return {
    version: REPORT_VERSION,
    command: outcome.command,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    gridlockExitCode: outcome.gridlockExitCode,
    startedAt: outcome.startedAt,
    endedAt: outcome.endedAt,
    processes,
    resources: outcome.resources ?? [],
    findings: outcome.findings,
    notes,
  };
}

function reportThread(t: ThreadModel): ReportThread {
  const thread: ReportThread = {
    threadId: t.threadId,
    parentThreadId: t.threadId === 0 ? null : t.parentThreadId,
    name: t.name,
    script: t.script,
    state: t.status === 'starting' ? 'unknown' : t.status,
    exitCode: t.exitCode,
    tracked: t.tracked,
  };
  if (t.error) thread.error = { name: t.error.name, message: t.error.message };
  if (t.block) {
    const on = t.block.on;
    thread.blockedOn = on.kind === 'atomics.wait' ? `Atomics.wait index ${on.index} of SharedArrayBuffer ${on.buffer.label ?? on.buffer.id}` : `${on.method} ${on.command}`;
    if (t.block.site) thread.site = t.block.site;
  }
  return thread;
}

/** One line per participant, for terminals. */
export function formatFinding(finding: Finding, cwd?: string): string[] {
  const lines = [`${finding.severity === 'error' ? '✖' : '⚠'} ${finding.message}  [${finding.id}]`];
  for (const p of finding.participants) {
    const where = p.site ? `  at ${describeSite(p.site, cwd)}` : '';
    lines.push(`    pid ${p.pid} thread ${p.threadId}${p.task ? ` task ${p.task}` : ''}: ${p.detail}${where}`);
  }
  return lines;
}
