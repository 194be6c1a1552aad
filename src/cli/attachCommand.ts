import type { Finding } from '../protocol/report';
import { EXIT_HANG_FOUND, EXIT_UNREACHABLE } from '../protocol/report';
import { resolveInspectorTarget } from '../inspector/inspectorTarget';
import { attachToTarget } from '../inspector/attach';
import { ProcessTree } from '../model/processTree';
import { checkStall, DEFAULT_STALL_OPTIONS } from '../model/stallDetector';
import { drainFinding } from '../model/findings';
import { buildReport, formatFinding } from '../model/reportBuilder';
import type { RunOptions } from './args';
import { agentBundlePath } from './launchEnv';
import { createLiveView, printSummary } from './output';
import { addDumpsToStall } from './stallDump';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `gridlock attach <target>`: injects the agent into a program started with --inspect and tracks it
 * from then on. Ctrl-C detaches and leaves the program running; a hang is reported, never stopped.
 */
export async function attachCommand(args: { target: string; jsonFile?: string; live: RunOptions['live'] }): Promise<number> {
  const startedAt = Date.now();
  const cwd = process.cwd();
  let url: string;
  try {
    url = await resolveInspectorTarget(args.target);
  } catch (error) {
    process.stderr.write(`gridlock: ${(error as Error).message}\n`);
    return EXIT_UNREACHABLE;
  }
  const tree = new ProcessTree();
  const view = createLiveView(tree, { live: args.live, verbose: false }, cwd);
  const findings: Finding[] = [];
  const addFinding = (finding: Finding | undefined): void => {
    if (!finding || findings.some((f) => f.id === finding.id)) return;
    findings.push(finding);
    view.message(formatFinding(finding, cwd));
  };
  let attached;
  try {
    attached = await attachToTarget(url, agentBundlePath(), (line) => {
      const now = Date.now();
      view.update(tree.applyLine(line, now));
      const p = tree.get(line.p);
      for (const event of line.e) {
        const t = p?.threads.get(line.t);
        if (event.type === 'drain' && p && t) addFinding(drainFinding(p, t, event, now));
      }
    }, {
      // What each thread's agent knew when we arrived: its hello, state, workers and children.
      onSnapshot: (snapshot) => {
        const now = Date.now();
        for (const event of snapshot.events) view.update(tree.applyEvent(snapshot.pid, snapshot.threadId, event, now));
      },
      onProblem: (message) => view.message([message]),
    });
  } catch (error) {
    view.close();
    process.stderr.write(`gridlock: cannot attach to ${args.target}: ${(error as Error).message}\n`);
    return EXIT_UNREACHABLE;
  }
  if (attached.pid) view.update(tree.addRoot(attached.pid, tree.get(attached.pid)?.argv ?? [], Date.now()));
  view.message([`attached to ${url}; Ctrl-C detaches and leaves the program running`]);
  let stalledOnce = false;
  let checking = false;
  const ticker = setInterval(() => {
    if (stalledOnce || checking) return;
    const check = checkStall(tree, Date.now(), DEFAULT_STALL_OPTIONS);
    if (!check.stalled) return;
    checking = true;
    addDumpsToStall(tree, check)
      .then((finding) => {
        stalledOnce = true;
        addFinding(finding);
      })
      .catch(() => undefined)
      .finally(() => (checking = false));
  }, 100);
  const handle = attached;
  const detached = new Promise<'detached' | 'closed'>((resolve) => {
    process.once('SIGINT', () => resolve('detached'));
    process.once('SIGTERM', () => resolve('detached'));
    handle.closed.then(() => resolve('closed'), () => resolve('closed'));
  });
  const how = await detached;
  clearInterval(ticker);
  if (how === 'detached') await handle.detach();
  view.close();
  const endedAt = Date.now();
  const hang = findings.some((f) => f.kind === 'stall' || f.kind === 'deadlock');
  const status = hang ? EXIT_HANG_FOUND : 0;
  const report = buildReport(tree, { command: ['attach', args.target], exitCode: null, signal: null, gridlockExitCode: status, startedAt, endedAt, findings, notes: [how === 'detached' ? 'detached; the program keeps running' : 'the program went away'] });
  if (args.jsonFile) fs.writeFileSync(path.resolve(cwd, args.jsonFile), JSON.stringify(report, null, 2) + '\n');
  printSummary(report, tree, cwd, { live: args.live, jsonFile: args.jsonFile });
  return status;
}
