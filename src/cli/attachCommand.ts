import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT_HANG_FOUND, EXIT_UNREACHABLE } from '../protocol/report';
import { resolveInspectorTarget } from '../inspector/inspectorTarget';
import { attachToTarget } from '../inspector/attach';
import { buildReport } from '../model/reportBuilder';
import type { RunOptions } from './args';
import { agentBundlePath } from './launchEnv';
import { createLiveView, printSummary } from './output';
import { TrackingSession } from './trackingSession';

/**
 * `gridlock attach <target>`: injects the agent into a program started with --inspect and tracks it
 * from then on. Ctrl-C detaches and leaves the program running; a hang is reported, never stopped.
 */
export async function attachCommand(args: { target: string; jsonFile?: string; live: RunOptions['live']; verbose: boolean; stallMs: number }): Promise<number> {
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
  const session = new TrackingSession((tree, resourcesOf) => createLiveView(tree, { live: args.live, verbose: args.verbose }, cwd, resourcesOf), cwd, args.stallMs, () => {});
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
  const how = await new Promise<'detached' | 'closed'>((resolve) => {
    if (detachRequested) resolve('detached');
    onDetach = () => resolve('detached');
    attached.closed.then(() => resolve('closed'), () => resolve('closed'));
  });
  clearInterval(ticker);
  process.off('SIGINT', signalled);
  process.off('SIGTERM', signalled);
  if (how === 'detached') await attached.detach();
  else session.processExited(attached.pid, null, null);
  session.finish();
  session.view.close();
  const status = session.hangFound ? EXIT_HANG_FOUND : 0;
  const note = how === 'detached' ? 'detached; the program keeps running' : 'the program went away';
  const report = buildReport(session.tree, { command: ['attach', args.target], exitCode: null, signal: null, gridlockExitCode: status, startedAt, endedAt: Date.now(), findings: session.findings, notes: [note], resources: session.resourcesForReport() });
  if (args.jsonFile) fs.writeFileSync(path.resolve(cwd, args.jsonFile), JSON.stringify(report, null, 2) + '\n');
  printSummary(report, session.tree, cwd, { live: args.live, jsonFile: args.jsonFile }, session.resourceLines);
  return status;
}
