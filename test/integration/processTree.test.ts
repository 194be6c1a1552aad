// Every way a Node program starts processes and threads, tracked into one tree with parents,
// how each was started and where, and exit codes — and the program runs exactly as without gridlock.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { ReportProcess } from '../../src/protocol/report';
import { lineOf, repoRoot, runGridlock, runToEnd } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

const family = path.join(repoRoot, 'test', 'fixtures', 'tree', 'family.js');

test('fork, exec, spawn through sh, a non-Node child, execSync, cluster and nested workers form one tree', async () => {
  const bare = await runToEnd(testNode, [family]);
  const run = await runGridlock([testNode, family]);
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, bare.stdout, 'same output as without gridlock');
  assert.equal(run.programStderr, bare.stderr);
  const report = run.report!;
  assert.deepEqual(report.findings, []);
  const processes = report.processes;
  const byArg = (arg: string) => processes.find((p) => p.argv[p.argv.length - 1] === arg && p.node);
  const root = processes.find((p) => p.startedBy === null && p.argv.includes(family))!;
  assert.ok(root, 'the root process');
  const parentOf = (p: ReportProcess | undefined) => processes.find((q) => q.pid === p?.ppid);

  // Threads: main → outer → inner, with names and exit codes.
  const threads = root.threads;
  assert.deepEqual(
    threads.map((t) => [t.threadId, t.parentThreadId, t.name, t.exitCode]),
    [[0, null, 'main', 0], [1, 0, 'outer', 0], [2, 1, 'inner', 0]],
  );

  // exec runs through a shell: node under sh under the root, started by exec at its line.
  const viaExec = byArg('via-exec')!;
  const execShell = parentOf(viaExec)!;
  assert.equal(execShell.startedBy?.method, 'exec');
  assert.equal(execShell.startedBy?.site?.line, lineOf(family, 'cp.exec('));
  assert.equal(execShell.ppid, root.pid);
  assert.equal(execShell.node, false, 'the shell is not Node');

  // spawn('sh', ['-c', 'node …']) and the grandchild that node forks.
  const viaShell = byArg('via-shell')!;
  assert.equal(parentOf(viaShell)?.startedBy?.method, 'spawn');
  assert.equal(parentOf(viaShell)?.ppid, root.pid);
  const grandchild = byArg('grandchild')!;
  assert.equal(grandchild.ppid, viaShell.pid);
  assert.equal(grandchild.startedBy?.method, 'fork');
  assert.equal(grandchild.startedBy?.site?.line, lineOf(family, "cp.fork(__filename, ['grandchild'])"));

  // A non-Node child is an opaque process with its exit status.
  const ls = processes.find((p) => p.argv[0] === 'ls')!;
  assert.deepEqual([ls.node, ls.tracked, ls.exitCode, ls.ppid, ls.startedBy?.method], [false, false, 0, root.pid, 'spawn']);

  // fork with its own exit code; a cluster worker.
  const forked = byArg('forked')!;
  assert.deepEqual([forked.ppid, forked.startedBy?.method, forked.exitCode, forked.threads[0]?.exitCode], [root.pid, 'fork', 3, 3]);
  const clusterWorker = byArg('cluster-worker')!;
  assert.deepEqual([clusterWorker.ppid, clusterWorker.startedBy?.method], [root.pid, 'cluster']);
  assert.equal(clusterWorker.startedBy?.site?.line, lineOf(family, 'cluster.fork()'));

  // execSync: its shell, found between the root and the node it ran, started by execSync at its line.
  const syncNode = processes.find((p) => p.node && p.argv.length === 1 && p.ppid !== root.pid)!;
  assert.ok(syncNode, 'the node run by execSync');
  const syncShell = parentOf(syncNode)!;
  assert.deepEqual([syncShell.ppid, syncShell.startedBy?.method, syncShell.startedBy?.site?.line], [root.pid, 'execSync', lineOf(family, 'cp.execSync(')]);
  assert.ok(processes.every((p) => p.exitCode !== null || p.signal !== null || !p.node), 'every Node process has an exit status');
});
