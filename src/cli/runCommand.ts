import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Finding } from '../protocol/report';
import { EXIT_HANG_FOUND } from '../protocol/report';
import { Hub } from '../inspector/hub';
import { ProcessTree } from '../model/processTree';
import { checkStall, DEFAULT_STALL_OPTIONS } from '../model/stallDetector';
import { drainFinding } from '../model/findings';
import { buildReport, formatFinding } from '../model/reportBuilder';
import type { RunOptions } from './args';
import { lookupCommand } from './commandLookup';
import { createLiveView, printSummary } from './output';
import { isProcessAlive, killQuietly } from './procfs';
import { addDumpsToStall } from './stallDump';
import { MIN_NODE_MAJOR } from '../protocol/hubWire';
import { agentBundlePath, nodeOptionsWithAgent } from './launchEnv';

/** How gridlock should end: with a status, or by re-raising the signal that killed the program. */
export interface RunResult {
  status: number;
  reraise?: NodeJS.Signals;
}

/** Runs `options.command` with tracking. */
export async function runCommand(options: RunOptions, cwd = process.cwd()): Promise<RunResult> {
  const startedAt = Date.now();
  const [command, ...args] = options.command;
  const lookup = lookupCommand(command, process.env, cwd);
  if (!lookup.ok) {
    process.stderr.write(`gridlock: ${lookup.message}\n`);
    return { status: lookup.status };
  }
  let hub: Hub;
  try {
    hub = Hub.create();
  } catch (error) {
    process.stderr.write(`gridlock: ${(error as Error).message}\n`);
    return { status: 70 };
  }
  const tree = new ProcessTree();
  const view = createLiveView(tree, options, cwd);
  const findings: Finding[] = [];
  const addFinding = (finding: Finding | undefined): void => {
    if (!finding || findings.some((f) => f.id === finding.id)) return;
    findings.push(finding);
    view.message(formatFinding(finding, cwd));
  };
  const warnedOld = new Set<number>();
  hub.onRejected((r) => view.message([`refused a hub message with a wrong token${r.pid ? ` (claiming pid ${r.pid})` : ''}: ${r.reason}`]));
  hub.onLine((line) => {
    const now = Date.now();
    view.update(tree.applyLine(line, now));
    const p = tree.get(line.p);
    if (p?.tooOld && !warnedOld.has(p.pid)) {
      warnedOld.add(p.pid);
      view.message([`pid ${p.pid} runs Node ${p.nodeVersion}, which is too old: Gridlock needs Node ${MIN_NODE_MAJOR} or newer. That process is not tracked; install a newer Node (e.g. with nvm) to track it.`]);
    }
    for (const event of line.e) {
      if (event.type !== 'drain' || !p) continue;
      const t = p.threads.get(line.t);
      if (t) addFinding(drainFinding(p, t, event, now));
    }
  });

  const child = spawn(lookup.file, args, {
    stdio: 'inherit',
    cwd,
    env: { ...process.env, NODE_OPTIONS: nodeOptionsWithAgent(process.env.NODE_OPTIONS, agentBundlePath()), ...hub.env() },
    argv0: command,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error: NodeJS.ErrnoException) => {
      view.message([`cannot start ${command}: ${error.code === 'EACCES' ? 'permission denied' : error.message}`]);
      resolve({ code: error.code === 'ENOENT' ? 127 : 126, signal: null });
    });
  });
  if (child.pid !== undefined) view.update(tree.addRoot(child.pid, options.command, Date.now()));

  // Signals meant for the program: a terminal's Ctrl-C already reaches its whole process group,
  // so only forward SIGINT when it did not come from our terminal.
  const forward = (signal: NodeJS.Signals) => () => {
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    if (child.pid !== undefined) killQuietly(child.pid, signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  const handlers = signals.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  let hangFound = false;
  let checking = false;
  const stallOptions = { ...DEFAULT_STALL_OPTIONS, quietMs: options.stallMs };
  const tick = async (): Promise<void> => {
    const now = Date.now();
    for (const p of tree.processes()) {
      if (p.alive && !p.root && !isProcessAlive(p.pid)) view.update(tree.exitProcess(p.pid, p.exitCode, p.signal, now));
    }
    if (hangFound || checking) return;
    hub.drain();
    const check = checkStall(tree, Date.now(), stallOptions);
    if (!check.stalled) return;
    checking = true;
    try {
      const finding = await addDumpsToStall(tree, check);
      // Dumps take time: only report when nothing moved meanwhile.
      hub.drain();
      if (!checkStall(tree, Date.now(), { ...stallOptions, quietMs: 0 }).stalled) return;
      hangFound = true;
      addFinding(finding);
      if (!options.keepRunning) {
        view.message(['stopping the program (use --keep-running to leave it running)']);
        for (const p of tree.processes()) if (p.alive) killQuietly(p.pid, 'SIGKILL');
      }
    } finally {
      checking = false;
    }
  };
  const ticker = setInterval(() => void tick(), 100);

  const { code, signal } = await exited;
  clearInterval(ticker);
  for (const [s, h] of handlers) process.off(s, h);
  hub.drain();
  const endedAt = Date.now();
  if (child.pid !== undefined) view.update(tree.exitProcess(child.pid, code, signal, endedAt));
  view.close();
  hub.dispose();

  const hang = findings.some((f) => f.kind === 'stall' || f.kind === 'deadlock');
  const own = code ?? (signal ? 128 + signalNumber(signal) : 1);
  const gridlockExitCode = hang ? EXIT_HANG_FOUND : own;
  const notes: string[] = [];
  const report = buildReport(tree, { command: options.command, exitCode: code, signal, gridlockExitCode, startedAt, endedAt, findings, notes });
  if (options.jsonFile) {
    try {
      fs.writeFileSync(path.resolve(cwd, options.jsonFile), JSON.stringify(report, null, 2) + '\n');
    } catch (error) {
      process.stderr.write(`gridlock: cannot write the report to ${options.jsonFile}: ${(error as Error).message}\n`);
    }
  }
  printSummary(report, tree, cwd, options);
  // Without a finding, end as the program did: a program killed by a signal makes gridlock die of it too.
  if (!hang && signal && code === null) return { status: gridlockExitCode, reraise: signal };
  return { status: gridlockExitCode };
}

function signalNumber(signal: NodeJS.Signals): number {
  return os.constants.signals[signal] ?? 0;
}
