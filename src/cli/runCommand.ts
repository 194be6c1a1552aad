import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT_HANG_FOUND } from '../protocol/report';
import { Hub } from '../inspector/hub';
import { buildReport } from '../model/reportBuilder';
import type { RunOptions } from './args';
import { lookupCommand } from './commandLookup';
import { agentLoaderPath, nodeOptionsWithAgent } from './launchEnv';
import { createLiveView, printSummary } from './output';
import { isProcessAlive, killQuietly, waitUntilGone } from './procfs';
import type { ProcessTree } from '../model/processTree';
import { TrackingSession } from './trackingSession';

/** How long a hung program whose main thread has exited may take to end before gridlock stops it. */
const ENDING_GRACE_MS = 2000;

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
  const session = new TrackingSession((tree, resourcesOf) => createLiveView(tree, options, cwd, resourcesOf), cwd, options.stallMs, (found) => {
    if (options.keepRunning) return;
    const stop = (pid: number): void => {
      found.tree.markStoppedByGridlock(pid);
      killQuietly(pid, 'SIGKILL');
      found.killedByUs.add(pid);
    };
    const alive = found.tree.processes().filter((p) => p.alive);
    // A process whose main thread has exited is ending by itself (a deadlock found as its loop
    // drained): it ends with its own status, unless it is still there after a grace period.
    const ending = alive.filter((p) => p.threads.get(0)?.status === 'exited');
    const running = alive.filter((p) => !ending.includes(p));
    if (running.length > 0) found.view.message(['stopping the program (use --keep-running to leave it running)']);
    for (const p of running) stop(p.pid);
    if (ending.length > 0) setTimeout(() => ending.filter((p) => isProcessAlive(p.pid)).forEach((p) => stop(p.pid)), ENDING_GRACE_MS).unref();
  }, options.longHoldMs);
  hub.onRejected((r) =>
    session.view.message([
      r.reason === 'bad-token'
        ? `refused a hub message with a wrong token${r.pid ? ` (claiming pid ${r.pid})` : ''}`
        : 'refused a malformed hub message (not a JSON line of the agent protocol)',
    ]),
  );
  hub.onLine((line) => session.handleLine(line));

  const child = spawn(lookup.file, args, {
    stdio: 'inherit',
    cwd,
    env: { ...process.env, NODE_OPTIONS: nodeOptionsWithAgent(process.env.NODE_OPTIONS, agentLoaderPath()), ...hub.env() },
    argv0: command,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error: NodeJS.ErrnoException) => {
      session.view.message([`cannot start ${command}: ${error.code === 'EACCES' ? 'permission denied' : error.message}`]);
      resolve({ code: error.code === 'ENOENT' ? 127 : 126, signal: null });
    });
  });
  if (child.pid !== undefined) session.tree.addRoot(child.pid, options.command, Date.now());

  // Signals meant for the program: a terminal's Ctrl-C already reaches its whole process group,
  // so only forward SIGINT when it did not come from our terminal.
  const forward = (signal: NodeJS.Signals) => () => {
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    if (child.pid !== undefined) killQuietly(child.pid, signal);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  const ticker = setInterval(() => void session.tick(() => hub.drain(), child.pid), 100);

  const { code, signal } = await exited;
  clearInterval(ticker);
  // What gridlock killed is gone before gridlock is: SIGKILL is delivered asynchronously.
  await waitUntilGone([...session.killedByUs], 2000);
  for (const [s, h] of handlers) process.off(s, h);
  hub.drain();
  if (child.pid !== undefined) session.processExited(child.pid, code, signal);
  session.finish();
  session.view.close();
  hub.dispose();

  const endedAt = Date.now();
  const hang = session.hangFound;
  const gridlockExitCode = hang ? EXIT_HANG_FOUND : (code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
  const report = buildReport(session.tree, { command: options.command, exitCode: code, signal, gridlockExitCode, startedAt, endedAt, findings: session.findings, notes: untrackedNotes(session.tree), resources: session.resourcesForReport() });
  if (options.jsonFile) {
    try {
      fs.writeFileSync(path.resolve(cwd, options.jsonFile), JSON.stringify(report, null, 2) + '\n');
    } catch (error) {
      process.stderr.write(`gridlock: cannot write the report to ${options.jsonFile}: ${(error as Error).message}\n`);
    }
  }
  printSummary(report, session.tree, cwd, options, session.resourceLines);
  // Without a finding, end as the program did: a program killed by a signal makes gridlock die of it too.
  if (!hang && signal && code === null) return { status: gridlockExitCode, reraise: signal };
  return { status: gridlockExitCode };
}

/**
 * Node processes of the tree that ran without the agent (their environment dropped NODE_OPTIONS):
 * the report says tracking was partial (README "Limits"). A process counts as Node when it was
 * started with the executable of a tracked process, or one named node.
 */
function untrackedNotes(tree: ProcessTree): string[] {
  const nodePaths = new Set(tree.processes().filter((p) => p.tracked && p.argv[0]).map((p) => p.argv[0]));
  const notes: string[] = [];
  for (const p of tree.processes()) {
    if (p.tracked || !p.origin) continue;
    const file = p.origin.file || p.argv[0] || '';
    if (!nodePaths.has(file) && !/(^|\/)node(js)?(\d+)?$/.test(file)) continue;
    notes.push(`pid ${p.pid} (${[file, ...p.origin.args].join(' ').slice(0, 80)}) is a Node process that ran without the agent (did its environment drop NODE_OPTIONS?): its threads and children are not tracked`);
  }
  return notes;
}
