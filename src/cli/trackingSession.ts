import type { AgentEvent } from '../protocol/agentEvents';
import type { HubLine } from '../protocol/hubWire';
import { MIN_NODE_MAJOR } from '../protocol/hubWire';
import type { Finding } from '../protocol/report';
import { ProcessTree } from '../model/processTree';
import { checkStall, DEFAULT_STALL_OPTIONS, type StallOptions } from '../model/stallDetector';
import { drainFindingsOfExitedThreads } from '../model/findings';
import { formatFinding } from '../model/reportBuilder';
import type { LiveView } from './liveView';
import { isProcessAlive, readProcessInfo } from './procfs';
import { addDumpsToStall } from './stallDump';

/**
 * What `run` and `attach` share: the tree fed by agent lines, the findings, the live view, and the
 * periodic stall check that takes thread dumps before it reports.
 */
export class TrackingSession {
  readonly tree = new ProcessTree();
  readonly findings: Finding[] = [];
  private readonly drainsDone = new Set<string>();
  private readonly warnedOld = new Set<number>();
  private stallFound = false;
  private checking = false;
  private readonly stallOptions: StallOptions;
  /** Where the tree and messages are shown. */
  readonly view: LiveView;

  constructor(
    createView: (tree: ProcessTree) => LiveView,
    private readonly cwd: string,
    stallMs: number,
    /** Called once, after the stall finding is reported (run stops the program here). */
    private readonly onStall: (session: TrackingSession) => void,
  ) {
    this.view = createView(this.tree);
    this.stallOptions = { ...DEFAULT_STALL_OPTIONS, quietMs: stallMs, cwd };
  }

  /** True once a deadlock or stall was reported. */
  get hangFound(): boolean {
    return this.findings.some((f) => f.kind === 'stall' || f.kind === 'deadlock');
  }

  /** One line from an agent (hub or binding). */
  handleLine(line: HubLine): void {
    this.view.update(this.tree.applyLine(line, Date.now()));
    this.afterEvents(line.p);
  }

  /** Events from an agent's snapshot (attach). */
  handleEvents(pid: number, threadId: number, events: AgentEvent[]): void {
    const now = Date.now();
    for (const event of events) this.view.update(this.tree.applyEvent(pid, threadId, event, now));
    this.afterEvents(pid);
  }

  /** Marks a process exited (the root's exit, seen by the host). */
  processExited(pid: number, code: number | null, signal: string | null): void {
    this.view.update(this.tree.exitProcess(pid, code, signal, Date.now()));
    this.afterEvents(pid);
  }

  addFinding(finding: Finding | undefined): void {
    if (!finding || this.findings.some((f) => f.id === finding.id)) return;
    this.findings.push(finding);
    this.view.message(formatFinding(finding, this.cwd));
  }

  /** The run is over: note processes that ended meanwhile, and report drains of threads that never got to say they exited. */
  finish(): void {
    const now = Date.now();
    for (const p of this.tree.processes()) if (p.alive && !isProcessAlive(p.pid)) this.view.update(this.tree.exitProcess(p.pid, p.exitCode, p.signal, now));
    for (const f of drainFindingsOfExitedThreads(this.tree, this.drainsDone, Date.now(), this.cwd, true)) this.addFinding(f);
  }

  /**
   * The periodic check: processes found gone, then the stall rule; on a stall, dumps of every
   * process, one more check that nothing moved meanwhile, then the finding. `beforeCheck` reads
   * whatever agents wrote just now.
   */
  async tick(beforeCheck: () => void, skipPid?: number): Promise<void> {
    const now = Date.now();
    for (const p of this.tree.processes()) {
      if (p.alive && p.pid !== skipPid && !isProcessAlive(p.pid)) this.view.update(this.tree.exitProcess(p.pid, p.exitCode, p.signal, now));
    }
    if (this.stallFound || this.checking) return;
    beforeCheck();
    const check = checkStall(this.tree, Date.now(), this.stallOptions);
    if (!check.stalled) return;
    this.checking = true;
    try {
      const finding = await addDumpsToStall(this.tree, check);
      beforeCheck();
      // Dumps take time: report only when nothing moved meanwhile.
      if (!checkStall(this.tree, Date.now(), { ...this.stallOptions, quietMs: 0 }).stalled) return;
      this.stallFound = true;
      this.addFinding(finding);
      this.onStall(this);
    } finally {
      this.checking = false;
    }
  }

  /**
   * A process whose parent is unknown hangs under the nearest known ancestor, with the processes in
   * between (shells of execSync, npm scripts) read from /proc while they are alive.
   */
  private linkUnknownParent(pid: number, ppid: number | null): void {
    const chain: Array<{ pid: number; ppid: number; argv: string[] }> = [];
    let current = ppid;
    for (let depth = 0; current !== null && current > 1 && !this.tree.get(current) && depth < 8; depth++) {
      const info = readProcessInfo(current);
      if (!info) return;
      chain.push({ pid: current, ...info });
      current = info.ppid;
    }
    if (chain.length === 0 || current === null || !this.tree.get(current)) return;
    const now = Date.now();
    for (const link of chain.reverse()) this.view.update(this.tree.addIntermediate(link.pid, link.ppid, link.argv, now));
    void pid;
  }

  private afterEvents(pid: number): void {
    const p = this.tree.get(pid);
    if (p) this.linkUnknownParent(p.pid, p.ppid);
    if (p?.tooOld && !this.warnedOld.has(p.pid)) {
      this.warnedOld.add(p.pid);
      this.view.message([`pid ${p.pid} runs Node ${p.nodeVersion}, which is too old: Gridlock needs Node ${MIN_NODE_MAJOR} or newer. That process is not tracked; install a newer Node (e.g. with nvm) to track it.`]);
    }
    for (const f of drainFindingsOfExitedThreads(this.tree, this.drainsDone, Date.now(), this.cwd)) this.addFinding(f);
  }
}
