import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT_HANG_FOUND, EXIT_UNREACHABLE } from '../protocol/report';
import { resolveInspectorTarget } from '../inspector/inspectorTarget';
import { attachToTarget, type AttachCloseInfo } from '../inspector/attach';
import { buildReport } from '../model/reportBuilder';
import type { RunOptions } from './args';
import { agentBundlePath } from './launchEnv';
import { createLiveView, printSummary, type AttachEnd } from './output';
import { isProcessAlive, waitUntilGone } from './procfs';
import { TrackingSession } from './trackingSession';

/**
 * `gridlock attach <target>`: injects the agent into a program started with --inspect and tracks it
 * from then on. Ctrl-C detaches and leaves the program running; a hang is reported, never stopped.
 */
export async function attachCommand(args: { target: string; jsonFile?: string; live: RunOptions['live']; verbose: boolean; stallMs: number; longHoldMs: number }): Promise<number> {
  const startedAt = Date.now();
  const cwd = process.cwd();
  let url: string;
  try {
    url = await resolveInspectorTarget(args.target);
  } catch (error) {
    process.stderr.write(`gridlock: ${(error as Error).message}\n`);
    return EXIT_UNREACHABLE;
  }
  // Ctrl-C detaches from the start (a SIGINT during the attach must not kill gridlock half-way).
  let detachRequested = false;
  let onDetach = (): void => {
    detachRequested = true;
  };
  const signalled = (): void => onDetach();
  process.on('SIGINT', signalled);
  process.on('SIGTERM', signalled);
  const session = new TrackingSession((tree, resourcesOf) => createLiveView(tree, { live: args.live, verbose: args.verbose }, cwd, resourcesOf), cwd, args.stallMs, () => {}, args.longHoldMs);
  let handle;
  try {
    handle = await attachToTarget(url, agentBundlePath(), (line) => session.handleLine(line), {
      // What each thread's agent knew when we arrived: its hello, state, workers and children.
      onSnapshot: (snapshot) => session.handleEvents(snapshot.pid, snapshot.threadId, snapshot.events),
      onProblem: (message) => session.view.message([message]),
    });
  } catch (error) {
    process.off('SIGINT', signalled);
    process.off('SIGTERM', signalled);
    session.view.close();
    process.stderr.write(`gridlock: cannot attach to ${args.target}: ${(error as Error).message}\n`);
    return EXIT_UNREACHABLE;
  }
  session.tree.addRoot(handle.pid, session.tree.get(handle.pid)?.argv ?? [], Date.now());
  session.view.message([`attached to ${url}; Ctrl-C detaches and leaves the program running`]);
  const ticker = setInterval(() => void session.tick(() => {}), 100);
  const attached = handle;
  const how = await new Promise<'detached' | AttachCloseInfo>((resolve) => {
    if (detachRequested) resolve('detached');
    onDetach = () => resolve('detached');
    attached.closed.then(resolve, () => resolve({ reason: 'connection-lost', detail: 'closed' }));
  });
  clearInterval(ticker);
  process.off('SIGINT', signalled);
  process.off('SIGTERM', signalled);
  // The socket dropped without Node saying the program exits: it may still run (or be dying).
  const lostButRunning = how !== 'detached' && how.reason === 'connection-lost' && (await stillRunsAfter(attached.pid, 500));
  if (how === 'detached') await attached.detach();
  else if (!lostButRunning) session.processExited(attached.pid, null, null);
  session.finish();
  session.view.close();
  const status = session.hangFound ? EXIT_HANG_FOUND : 0;
  const note = how === 'detached' ? 'detached; the program keeps running' : lostButRunning ? `the connection to the program was lost (${how.detail}); the program keeps running` : 'the program went away';
  // The report keeps its format: attach knows no exit status (exitCode and signal stay null).
  const report = buildReport(session.tree, { command: ['attach', args.target], exitCode: null, signal: null, gridlockExitCode: status, startedAt, endedAt: Date.now(), findings: session.findings, notes: [note], resources: session.resourcesForReport() });
  if (args.jsonFile) fs.writeFileSync(path.resolve(cwd, args.jsonFile), JSON.stringify(report, null, 2) + '\n');
  const end: AttachEnd = { pid: attached.pid, stillRunning: how === 'detached' || lostButRunning, how: how === 'detached' ? 'detached' : 'connection lost' };
  printSummary(report, session.tree, cwd, { live: args.live, jsonFile: args.jsonFile }, session.resourceLines, end);
  return status;
}

/** True when `pid` still runs `graceMs` after the inspector connection dropped (a dying process closes its sockets first). */
async function stillRunsAfter(pid: number, graceMs: number): Promise<boolean> {
  await waitUntilGone([pid], graceMs);
  return isProcessAlive(pid);
}
