import type { Report } from '../protocol/report';
import type { ProcessTree } from '../model/processTree';
import { formatFinding } from '../model/reportBuilder';
import type { RunOptions } from './args';
import type { LiveView } from './liveView';
import { PlainEventLog, TtyTreeView } from './liveView';
import { renderTree, stoppedText, type ResourceLines } from './treeText';

const STDERR = 2;

/** Picks the live view: the in-place tree on a terminal, plain event lines otherwise. */
export function createLiveView(tree: ProcessTree, options: Pick<RunOptions, 'live' | 'verbose'>, cwd: string, resourcesOf?: ResourceLines): LiveView {
  const tty = process.stderr.isTTY === true;
  if (options.live === 'off') return { update() {}, message: (lines) => writeLines(lines), close() {} };
  if (options.live === 'tty' || (options.live === 'auto' && tty)) {
    return new TtyTreeView(tree, STDERR, cwd, () => ({ rows: process.stderr.rows || 24, columns: process.stderr.columns || 80 }), resourcesOf);
  }
  return new PlainEventLog(tree, STDERR, cwd, options.verbose);
}

function writeLines(lines: string[]): void {
  process.stderr.write(lines.map((l) => `gridlock: ${l}`).join('\n') + '\n');
}

/**
 * How `attach` left the program: it knows no exit status (the report has null exitCode and signal),
 * only whether the program still runs after gridlock stopped following it.
 */
export interface AttachEnd {
  pid: number;
  /** True after a detach (Ctrl-C), or when the connection was lost while the program still runs. */
  stillRunning: boolean;
  /** Why gridlock stopped following it: 'detached' or 'connection lost'. */
  how: string;
}

/** The end of a run: the final tree, the findings with stacks, and how it ended. */
export function printSummary(report: Report, tree: ProcessTree, cwd: string, options: Pick<RunOptions, 'live' | 'jsonFile'>, resourcesOf?: ResourceLines, attached?: AttachEnd): void {
  const out: string[] = [];
  out.push('', '── gridlock summary ──');
  if (options.live !== 'tty' && !(options.live === 'auto' && process.stderr.isTTY)) out.push(...renderTree(tree, cwd, resourcesOf));
  if (report.findings.length === 0) out.push('no findings');
  for (const finding of report.findings) {
    out.push(...formatFinding(finding, cwd));
    for (const p of finding.participants) {
      if (!p.stack || p.stack.length === 0) continue;
      out.push(`    stack of pid ${p.pid} thread ${p.threadId}:`);
      // Node's own frames say nothing about the program; the JSON report keeps them.
      const own = p.stack.filter((f) => !f.file.startsWith('node:'));
      for (const frame of (own.length > 0 ? own : p.stack).slice(0, 12)) out.push(`      at ${frame.functionName ? `${frame.functionName} ` : ''}(${frameText(frame.file, cwd)}:${frame.line}:${frame.column})`);
    }
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  out.push(`${programStatus(report, attached)}; gridlock exits with ${report.gridlockExitCode}${report.gridlockExitCode === 86 ? ' (hang found)' : ''}`);
  if (options.jsonFile) out.push(`report written to ${options.jsonFile}`);
  process.stderr.write(out.map((l) => (l ? `gridlock: ${l}` : '')).join('\n') + '\n');
}

function programStatus(report: Report, attached: AttachEnd | undefined): string {
  if (attached?.stillRunning) return `${attached.how}; the program is still running (pid ${attached.pid})`;
  const root = report.processes.find((p) => p.startedBy === null);
  if (root?.stoppedByGridlock && report.signal) return `program ${stoppedText(report.signal, root.threads.find((t) => t.threadId === 0)?.exitCode)}`;
  if (report.signal) return `program killed by ${report.signal}`;
  if (report.exitCode !== null) return `program exited with ${report.exitCode}`;
  return 'program ended (its exit status is not known to gridlock)';
}

function frameText(file: string, cwd: string): string {
  const f = file.startsWith('file://') ? decodeURIComponent(file.slice(7)) : file;
  return f.startsWith(cwd + '/') ? f.slice(cwd.length + 1) : f;
}
