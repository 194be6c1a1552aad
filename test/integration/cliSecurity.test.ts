// Security of `gridlock run`: the inspectors the tracked processes open listen on loopback only,
// on random ports; the hub is a FIFO in a private directory; a line with a wrong token is refused,
// logged, and changes nothing.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listeningSockets } from '../../src/inspector/findInspector';
import { resolveInspectorTarget } from '../../src/inspector/inspectorTarget';
import { cliFixture, gridlock, reportFile, type Watched } from '../helpers/cliHarness';
import { runGridlock } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

interface Info {
  pid: number;
  nodeVersion: string;
  hub: string | null;
  token: string | null;
  childPid: number | null;
}

async function startIdle(withChild = false): Promise<{ run: Watched; info: Info; report: ReturnType<typeof reportFile> }> {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--json', report.path, '--', testNode, cliFixture('waitForQuit.js'), ...(withChild ? ['with-child'] : [])]);
  const [line] = await run.waitFor('stdout', /^\{.*\}$/m);
  return { run, info: JSON.parse(line) as Info, report };
}

async function quit(run: Watched): Promise<void> {
  run.write('quit\n');
  const ended = await run.finish(15_000);
  assert.equal(ended.code, 0, ended.stderr);
}

test('every tracked process listens on 127.0.0.1 only: no 0.0.0.0, no ::, no 9229, and the port is its inspector', async () => {
  const { run, info, report } = await startIdle(true);
  try {
    assert.ok(info.childPid, 'the child reported its pid');
    for (const pid of [info.pid, info.childPid]) {
      const sockets = listeningSockets(pid);
      assert.equal(sockets.length, 1, `pid ${pid} listens on exactly one socket: ${JSON.stringify(sockets)}`);
      const [socket] = sockets;
      assert.equal(socket.address, '127.0.0.1', `pid ${pid} listens on ${socket.address}`);
      assert.equal(socket.family, 4);
      assert.notEqual(socket.port, 9229, 'not the default inspector port');
      assert.ok(socket.port >= 1024, 'an ephemeral port');
      // That loopback port is the inspector the agent opened (its URL is the one in the report later).
      const url = await resolveInspectorTarget(String(socket.port));
      assert.match(url, new RegExp(`^ws://127\\.0\\.0\\.1:${socket.port}/[0-9a-f-]{36}$`));
    }
    await quit(run);
    // And nothing listens any more once the program is gone.
    assert.deepEqual(listeningSockets(info.pid), []);
  } finally {
    run.stop();
    report.cleanup();
  }
});

test('two runs get different random inspector ports', async () => {
  const [a, b] = await Promise.all([startIdle(), startIdle()]);
  try {
    const [portA] = listeningSockets(a.info.pid).map((s) => s.port);
    const [portB] = listeningSockets(b.info.pid).map((s) => s.port);
    assert.ok(portA && portB, 'both listen');
    assert.notEqual(portA, portB);
    assert.notEqual(a.info.hub, b.info.hub, 'each run has its own hub');
    assert.notEqual(a.info.token, b.info.token, 'each run has its own token');
    await Promise.all([quit(a.run), quit(b.run)]);
  } finally {
    for (const x of [a, b]) {
      x.run.stop();
      x.report.cleanup();
    }
  }
});

test('the hub is a FIFO of mode 0600 in a directory of mode 0700 that holds nothing else but the agent\'s code cache (also 0600), removed at the end', async () => {
  const { run, info, report } = await startIdle();
  try {
    assert.ok(info.hub, 'GRIDLOCK_HUB is set in the program');
    const dir = path.dirname(info.hub);
    const dirStat = fs.statSync(dir);
    assert.equal(dirStat.isDirectory(), true);
    assert.equal((dirStat.mode & 0o777).toString(8), '700');
    assert.equal(dirStat.uid, process.getuid!(), 'owned by the user running gridlock');
    const fifoStat = fs.statSync(info.hub);
    assert.equal(fifoStat.isFIFO(), true, 'the hub is a FIFO');
    assert.equal((fifoStat.mode & 0o777).toString(8), '600');
    // Named after the bundle file it was made from (its inode, size and modification time).
    const bundle = fs.statSync(path.join(__dirname, '..', '..', 'dist', 'agent.js'));
    const cache = `agent-${info.nodeVersion}-${process.arch}-${bundle.ino}-${bundle.size}-${Math.round(bundle.mtimeMs)}.cache`;
    assert.deepEqual(fs.readdirSync(dir).sort(), [cache, path.basename(info.hub)].sort(), 'the FIFO, and the code cache the first thread of the program wrote');
    assert.equal((fs.statSync(path.join(dir, cache)).mode & 0o777).toString(8), '600');
    assert.match(info.token ?? '', /^[0-9a-f]{32}$/, 'a random 128-bit token');
    // The token travels in the environment only, never on a command line.
    assert.doesNotMatch(fs.readFileSync(`/proc/${info.pid}/cmdline`, 'utf8'), new RegExp(info.token!));
    assert.doesNotMatch(fs.readFileSync(`/proc/${run.pid}/cmdline`, 'utf8'), new RegExp(info.token!));
    await quit(run);
    assert.equal(fs.existsSync(dir), false, 'the hub directory is removed when gridlock ends');
  } finally {
    run.stop();
    report.cleanup();
  }
});

test('a hub line with a wrong token is refused and logged, and does not change the tree', async () => {
  const run = await runGridlock([testNode, cliFixture('wrongToken.js')]);
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'wrote 3 lines\n');
  const refused = run.stderr.split('\n').filter((l) => l.startsWith('gridlock: refused a'));
  assert.equal(refused.filter((l) => /with a wrong token \(claiming pid 4194301\)/.test(l)).length, 2, run.stderr);
  assert.equal(refused.length, 3, `three lines refused: ${run.stderr}`);
  const report = run.report!;
  assert.deepEqual(report.processes.map((p) => p.pid), [report.processes[0].pid], 'only the program itself is in the tree');
  assert.ok(!JSON.stringify(report).includes('4194301'), 'the made-up pid appears nowhere in the report');
  assert.ok(!JSON.stringify(report).includes('intruder'), 'nor its script');
  assert.deepEqual(report.findings, []);
});

test('a malformed hub line is reported as malformed, not as a wrong token', async () => {
  const run = await runGridlock([testNode, cliFixture('wrongToken.js')]);
  assert.equal(run.code, 0, run.stderr);
  const refused = run.stderr.split('\n').filter((l) => l.startsWith('gridlock: refused a'));
  const malformed = refused.filter((l) => !/claiming pid/.test(l));
  assert.equal(malformed.length, 1, run.stderr);
  assert.doesNotMatch(malformed[0], /wrong token/, 'a line that is not JSON has no token to be wrong');
});
