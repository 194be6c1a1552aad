import type { AgentEvent, PendingWait } from '../protocol/agentEvents';
import type { ResourceEvent } from '../protocol/resourceEvents';
import type { HubLine } from '../protocol/hubWire';
import { MIN_NODE_MAJOR } from '../protocol/hubWire';
import type { Finding, FindingKind, ReportResource } from '../protocol/report';
import { isServiceProcess, isThreadEvent, ProcessTree } from '../model/processTree';
import { ResourceGraph } from '../model/resourceGraph';
import { checkStall, DEFAULT_STALL_OPTIONS, type StallOptions } from '../model/stallDetector';
import { drainFindingsOfExitedThreads } from '../model/findings';
import { formatFinding } from '../model/reportBuilder';
import type { LiveView } from './liveView';
import { resourceLine, type ResourceLines } from './treeText';
import { isProcessAlive, readCpuTicks, readProcessInfo } from './procfs';
import { addDumpsToStall } from './stallDump';

/** Findings that mean the program cannot go on: gridlock exits with 86 and stops the program. */
const HANG_KINDS = new Set<FindingKind>(['stall', 'deadlock', 'self-deadlock', 'pool-starvation']);
/** At most this many resources are remembered for the report. */
const MAX_REMEMBERED_RESOURCES = 10000;

/**
 * What `run` and `attach` share: the tree fed by agent lines, the findings, the live view, and the
 * periodic stall check that takes thread dumps before it reports.
 */
export class TrackingSession {
  readonly tree = new ProcessTree();
  /** Locks, queues and pools, and the detectors over them. */
  readonly resources: ResourceGraph;
  readonly findings: Finding[] = [];
  /** Processes gridlock itself killed (run, after a hang): found gone, they died of SIGKILL. */
  readonly killedByUs = new Set<number>();
  private readonly drainsDone = new Set<string>();
  private readonly warnedOld = new Set<number>();
  private stallFound = false;
  private checking = false;
  private readonly stallOptions: StallOptions;
  /** Where the tree and messages are shown. */
  readonly view: LiveView;

  constructor(
    createView: (tree: ProcessTree, resourcesOf: ResourceLines) => LiveView,
    private readonly cwd: string,
    stallMs: number,
    /** Called once, after the stall finding is reported (run stops the program here). */
    private readonly onStall: (session: TrackingSession) => void,
    /** A lock held longer than this is reported (warning). */
    private readonly longHoldMs = 10000,
  ) {
    this.resources = new ResourceGraph({ cwd, tree: this.tree });
    this.view = createView(this.tree, this.resourceLines);
    this.stallOptions = { ...DEFAULT_STALL_OPTIONS, quietMs: stallMs, cwd };
  }

  /** The resources a thread owns or uses, one line each, for the tree. */
  readonly resourceLines: ResourceLines = (pid, threadId) => this.resources.threadResources(pid, threadId).map(resourceLine);

  /** True once a deadlock or stall was reported. */
  get hangFound(): boolean {
    return this.findings.some((f) => HANG_KINDS.has(f.kind));
  }

  /**
   * Every resource seen, in its last known state: the model forgets a thread's resources when the
   * thread exits, but the report lists what the run used. Bounded to {@link MAX_REMEMBERED_RESOURCES}.
   */
  resourcesForReport(): ReportResource[] {
    this.rememberResources();
    return [...this.remembered.values()];
  }

  private readonly remembered = new Map<string, ReportResource>();

  private rememberResources(): void {
    for (const r of this.resources.resourcesForReport()) {
      if (this.remembered.size >= MAX_REMEMBERED_RESOURCES && !this.remembered.has(r.id)) continue;
      this.remembered.set(r.id, r);
    }
  }

  /** One line from an agent (hub or binding). */
  handleLine(line: HubLine): void {
    const now = Date.now();
    this.view.update(this.tree.applyLine(line, now));
    for (const event of line.e) this.feedResources(line.p, line.t, event, now);
    this.afterEvents(line.p);
  }

  /** Events from an agent's snapshot (attach). */
  handleEvents(pid: number, threadId: number, events: Array<AgentEvent | ResourceEvent>): void {
    const now = Date.now();
    for (const event of events) {
      this.view.update(this.tree.applyEvent(pid, threadId, event, now));
      this.feedResources(pid, threadId, event, now);
    }
    this.afterEvents(pid);
  }

  private feedResources(pid: number, threadId: number, event: AgentEvent | ResourceEvent, now: number): void {
    let found: Finding[];
    if (!isThreadEvent(event)) found = this.resources.apply(pid, threadId, event, now);
    else {
      found = this.resources.observeAgentEvent(pid, threadId, event, now);
      if (event.type === 'exit' || event.type === 'worker-exited') this.rememberResources();
      if (event.type === 'exit') found.push(...this.resources.onThreadExit(pid, threadId, now));
      if (event.type === 'worker-exited') found.push(...this.resources.onThreadExit(pid, event.threadId, now));
    }
    this.addFindings(found);
  }

  /** Reports findings; a deadlock ends the run as a stall does (the program is stopped unless kept running). */
  private addFindings(found: Finding[]): void {
    for (const finding of found) {
      const first = !this.hangFound;
      this.addFinding(finding);
      if (HANG_KINDS.has(finding.kind) && first && !this.stallFound) {
        this.stallFound = true;
        this.onStall(this);
      }
    }
  }

  /** Marks a process exited (the root's exit, seen by the host). */
  processExited(pid: number, code: number | null, signal: string | null): void {
    this.view.update(this.tree.exitProcess(pid, code, signal, Date.now()));
    this.rememberResources();
    this.addFindings(this.resources.onProcessExit(pid, Date.now()));
    this.afterEvents(pid);
  }

  addFinding(finding: Finding | undefined): void {
    if (!finding || this.findings.some((f) => f.id === finding.id)) return;
    this.findings.push(finding);
    this.view.message(formatFinding(finding, this.cwd));
  }

  /** The run is over: note processes that ended meanwhile, and report drains of threads that never got to say they exited. */
  finish(): void {
    for (const p of this.tree.processes()) if (p.alive && !isProcessAlive(p.pid)) this.processExited(p.pid, p.exitCode, p.signal ?? (this.killedByUs.has(p.pid) ? 'SIGKILL' : null));
    this.addFindings(this.resources.confirmPending(Date.now() + 60_000));
    for (const f of drainFindingsOfExitedThreads(this.tree, this.drainsDone, Date.now(), this.cwd, true, this.explainedByDeadlock)) this.addFinding(f);
  }

  /**
   * The periodic check: processes found gone, then the stall rule; on a stall, dumps of every
   * process, one more check that nothing moved meanwhile, then the finding. `beforeCheck` reads
   * whatever agents wrote just now.
   */
  async tick(beforeCheck: () => void, skipPid?: number): Promise<void> {
    const now = Date.now();
    for (const p of this.tree.processes()) {
      if (p.alive && !p.tracked && isServiceProcess(p)) {
        const ticks = readCpuTicks(p.pid);
        if (ticks !== undefined) this.tree.noteCpu(p.pid, ticks, now);
      }
      if (p.alive && p.pid !== skipPid && !isProcessAlive(p.pid)) this.processExited(p.pid, p.exitCode, p.signal ?? (this.killedByUs.has(p.pid) ? 'SIGKILL' : null));
    }
    this.addFindings([...this.resources.confirmPending(now), ...this.resources.checkLongHolds(now, this.longHoldMs), ...this.resources.checkPools(now)]);
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
    // Once per process, when it is first heard from: its parents are alive then, and reading /proc
    // on every line (the root's chain runs up past gridlock to init) cost a busy run more than
    // everything else the host does per line.
    if (ppid === null || this.parentsLinked.has(pid)) return;
    this.parentsLinked.add(pid);
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
  }

  private readonly parentsLinked = new Set<number>();

  private afterEvents(pid: number): void {
    const p = this.tree.get(pid);
    if (p) this.linkUnknownParent(p.pid, p.ppid);
    if (p?.tooOld && !this.warnedOld.has(p.pid)) {
      this.warnedOld.add(p.pid);
      this.view.message([`pid ${p.pid} runs Node ${p.nodeVersion}, which is too old: Gridlock needs Node ${MIN_NODE_MAJOR} or newer. That process is not tracked; install a newer Node (e.g. with nvm) to track it.`]);
    }
    for (const f of drainFindingsOfExitedThreads(this.tree, this.drainsDone, Date.now(), this.cwd, false, this.explainedByDeadlock)) this.addFinding(f);
  }

  /**
   * A wait left pending at drain that a deadlock finding already names: same thread, and the
   * deadlocked wait's line is the wait's own or a caller's (a hand-written lock awaits an
   * `events.once` inside its `acquire`, called from the line the deadlock names).
   */
  private readonly explainedByDeadlock = (pid: number, threadId: number, wait: PendingWait): boolean => {
    const lines = [wait.site, ...(wait.stack ?? [])];
    return this.findings.some(
      (f) =>
        (f.kind === 'deadlock' || f.kind === 'self-deadlock') &&
        f.participants.some((p) => p.role === 'waits' && p.pid === pid && p.threadId === threadId && p.site !== undefined && lines.some((at) => at?.line === p.site?.line && at?.file === p.site?.file)),
    );
  };
}
