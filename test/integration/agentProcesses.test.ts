/**
 * The agent across processes (children, pid/ppid links), at the end of a thread (drain, exit
 * codes), and its promises to the program: same output, same exit status, nothing kept alive.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, constants, copyFileSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBundle, fixture, fixturesDir, ofType, repoRoot, run } from '../helpers/agentHarness';
import type { HubLine } from '../../src/protocol/hubWire';
import { testNode } from '../helpers/testNode';
import type { RunOptions } from '../helpers/agentHarness';
import { ensureNode18 } from '../helpers/agentOldNode';

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'ignore' });
});

describe('agent: child processes', () => {
  it('a worker thread that starts processes is tracked however it loads child_process (patched when first loaded)', async () => {
    const result = await run([fixture('worker-spawns.js')]);
    assert.equal(result.code, 0);
    const mainPid = ofType(result.events, 'hello').find((h) => h.ppid === process.pid)?.pid;
    assert.ok(mainPid);
    const fromWorkers = ofType(result.events, 'child-spawned').filter((e) => e.sender === mainPid && e.thread !== 0);
    assert.deepEqual(fromWorkers.map((e) => [e.method, e.site?.line]).sort(), [['spawn', 11], ['spawn', 13]], 'import() and process.getBuiltinModule');
    const blocks = ofType(result.events, 'block').filter((b) => b.sender === mainPid && b.thread !== 0);
    assert.deepEqual(blocks.map((b) => [b.on.kind === 'sync-child' ? b.on.method : b.on.kind, b.site?.line]), [['execFileSync', 9]], "require('node:child_process') in the first turn");
  });

  it('no thread loads child_process before the program does, and the program then gets it patched and process.moduleLoadList as it was', async () => {
    const result = await run([fixture('child-process-on-load.js')]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { thread: string; before: boolean; plainArray: boolean });
    assert.deepEqual(lines, [
      { thread: 'worker', before: false, plainArray: true },
      { thread: 'main', before: false, plainArray: true },
    ]);
    const mainPid = ofType(result.events, 'hello').find((h) => h.ppid === process.pid)?.pid;
    const blocks = ofType(result.events, 'block').filter((b) => b.sender === mainPid);
    assert.deepEqual(blocks.map((b) => [b.thread === 0 ? 'main' : 'worker', b.on.kind === 'sync-child' ? b.on.method : b.on.kind, b.site?.line]), [
      ['worker', 'execFileSync', 17],
      ['main', 'execFileSync', 12],
    ], 'the import in the worker and the require in the main thread both got the patched execFileSync');
  });

  it('reports every way of starting a child, with pid/ppid links and sync blocks', async () => {
    const result = await run([fixture('children.js')]);
    assert.equal(result.code, 0);
    const mainPid = ofType(result.events, 'hello').find((h) => h.ppid === process.pid)?.pid;
    assert.ok(mainPid);
    const fromMain = ofType(result.events, 'child-spawned').filter((e) => e.sender === mainPid);
    const byMethod = (method: string) => fromMain.filter((e) => e.method === method);
    // fork: node with IPC; its hello names the parent.
    const [fork] = byMethod('fork');
    assert.ok(fork && fork.ipc && !fork.shell);
    assert.deepEqual(fork.args, [fixture('children.js'), 'child']);
    assert.equal(fork.site?.line, 11);
    const forkHello = ofType(result.events, 'hello').find((h) => h.pid === fork.pid);
    assert.equal(forkHello?.ppid, mainPid);
    // spawn of sh -c "node …": the node under the shell is linked to the shell's pid (or is it, when sh execs).
    const sh = byMethod('spawn').find((e) => e.file === 'sh');
    assert.ok(sh);
    const viaSh = ofType(result.events, 'hello').find((h) => h.ppid === sh.pid || (h.pid === sh.pid && h.ppid === mainPid));
    assert.ok(viaSh, 'the node process started through sh says hello');
    // exec runs through a shell; execFile does not.
    const [exec] = byMethod('exec');
    assert.deepEqual([exec?.shell, exec?.file, exec?.site?.line], [true, '/bin/sh', 16]);
    const [execFile] = byMethod('execFile');
    assert.deepEqual([execFile?.shell, execFile?.args, execFile?.site?.line], [false, ['-e', 'console.log("execFile")'], 17]);
    // Every async child's exit is reported.
    for (const child of [fork, sh, exec, execFile]) {
      assert.ok(ofType(result.events, 'child-exited').some((e) => e.pid === child.pid && e.exitCode === 0), `exit of ${child.method}`);
    }
    // Sync children: block before, unblock after, in order.
    const blocks = ofType(result.events, 'block').filter((b) => b.on.kind === 'sync-child');
    assert.deepEqual(blocks.map((b) => (b.on.kind === 'sync-child' ? b.on.method : '')), ['execSync', 'spawnSync']);
    assert.deepEqual(blocks.map((b) => b.site?.line), [18, 19]);
    const unblocks = ofType(result.events, 'unblock').filter((u) => u.sender === mainPid);
    assert.deepEqual(unblocks.map((u) => u.result), ['0', '3']);
    const spawnSyncChild = unblocks[1].child;
    assert.ok(spawnSyncChild);
    assert.deepEqual([spawnSyncChild.exitCode, spawnSyncChild.signal], [3, null]);
    assert.equal(ofType(result.events, 'hello').find((h) => h.pid === spawnSyncChild.pid)?.ppid, mainPid);
    assert.equal(ofType(result.events, 'exit').find((e) => e.sender === spawnSyncChild.pid)?.exitCode, 3);
    // A spawn that fails, without the agent adding an 'error' listener.
    const failed = ofType(result.events, 'child-failed');
    assert.deepEqual(failed.map((f) => [f.method, f.file, f.error.message, f.site?.line]), [['spawn', 'gridlock-no-such-command', 'spawn gridlock-no-such-command ENOENT', 20]]);
    // Every process of the tree said hello: main, fork, node under sh, exec's node, execFile, execSync's node, spawnSync.
    assert.equal(new Set(ofType(result.events, 'hello').map((h) => h.pid)).size, 7);
  });
});

describe('agent: drain and exit', () => {
  it('names the events.once and Atomics.waitAsync still pending when the loop drains', async () => {
    const result = await run([fixture('drain.js')]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'settled once\n');
    const drains = ofType(result.events, 'drain');
    assert.equal(drains.length, 1);
    assert.equal(drains[0].exitCode, 0);
    assert.deepEqual(
      drains[0].pending.map((p) => [p.kind, p.description, p.site?.line]),
      [
        ['events.once', "once(EventEmitter, 'ready')", 6],
        ['atomics.waitAsync', `Atomics.waitAsync on ${drains[0].pending[1].description.split(' on ')[1]}`, 10],
      ],
    );
    assert.match(drains[0].pending[1].description, /^Atomics\.waitAsync on \d+:0:\d+\[0\] \(byte 0\)$/);
    const types = result.events.filter((e) => e.thread === 0).map((e) => e.type);
    assert.deepEqual(types.slice(-2), ['drain', 'exit']);
  });

  it('reports an unsettled top-level await and keeps exit code 13', async () => {
    const [withAgent, without] = await Promise.all([run([fixture('tla.mjs')]), run([fixture('tla.mjs')], { agent: false })]);
    assert.equal(withAgent.code, 13);
    assert.equal(without.code, 13);
    assert.equal(withAgent.stderr, without.stderr);
    const drain = ofType(withAgent.events, 'drain').find((d) => d.thread === 0 && d.exitCode === 13);
    assert.ok(drain);
    assert.deepEqual(drain.pending.map((p) => p.kind).sort(), ['events.once', 'top-level-await']);
    assert.equal(drain.pending.find((p) => p.kind === 'events.once')?.site?.line, 8);
    assert.equal(ofType(withAgent.events, 'exit').find((e) => e.thread === 0)?.exitCode, 13);
  });
});

describe('agent: a hub that does not keep up', () => {
  it('keeps a bounded backlog when the pipe is full, drops the oldest lines and reports how many', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridlock-flood-'));
    const fifo = join(dir, 'hub');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    // A reader that is there (so the agent can open the FIFO) but does not read until told.
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    let text = '';
    const readAll = (): void => {
      const buffer = Buffer.alloc(65536);
      for (;;) {
        let n = 0;
        try {
          n = readSync(readFd, buffer, 0, buffer.length, null);
        } catch {
          return; // EAGAIN
        }
        if (n <= 0) return;
        text += buffer.toString('utf8', 0, n);
      }
    };
    try {
      const env = { ...process.env, NODE_OPTIONS: `--require ${agentBundle} --inspect-publish-uid=http`, GRIDLOCK_HUB: fifo, GRIDLOCK_TOKEN: 't' };
      const child = spawn(testNode, [fixture('flood.js')], { cwd: fixturesDir, env, stdio: ['pipe', 'pipe', 'inherit'] });
      let reader: NodeJS.Timeout | undefined;
      child.stdout.setEncoding('utf8').once('data', () => {
        reader = setInterval(readAll, 2);
        child.stdin.write('go\n');
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearInterval(reader);
      readAll();
      assert.equal(code, 0);
      const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as HubLine);
      for (const line of text.split('\n').filter((l) => l !== '')) assert.ok(Buffer.byteLength(line) + 1 <= 4000);
      const events = lines.flatMap((l) => l.e);
      const dropped = events.filter((e) => e.type === 'dropped').reduce((sum, e) => sum + (e.type === 'dropped' ? e.count : 0), 0);
      const waits = events.filter((e) => e.type === 'block' || e.type === 'unblock').length;
      assert.ok(dropped > 0, 'some events were dropped');
      assert.equal(waits + dropped, 2 * 3100, 'every block and unblock was either delivered or counted as dropped');
      // Lost lines show as gaps in the sequence; the first (hello) and the last (exit) made it.
      const seqs = lines.map((l) => l.s);
      assert.ok(seqs.at(-1)! + 1 > seqs.length);
      assert.deepEqual([events[0].type, events.at(-1)?.type], ['hello', 'exit']);
    } finally {
      closeSync(readFd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs a program with and without the agent and expects identical stdout, stderr and exit status. */
async function assertSameBehaviour(args: string[], options: RunOptions = {}, normalise: (text: string) => string = (t) => t): Promise<void> {
  const [withAgent, without] = await Promise.all([run(args, options), run(args, { ...options, agent: false })]);
  const label = args.join(' ');
  assert.equal(withAgent.code, without.code, `exit code of ${label}`);
  assert.equal(withAgent.signal, without.signal, `signal of ${label}`);
  assert.equal(normalise(withAgent.stdout), normalise(without.stdout), `stdout of ${label}`);
  assert.equal(normalise(withAgent.stderr), normalise(without.stderr), `stderr of ${label}`);
  assert.ok(withAgent.lines.length > 0, `the agent reported on ${label}`);
}

describe('agent: the program behaves as without it', () => {
  const programs: string[][] = [
    ['hello.js'],
    ['children.js'],
    ['drain.js'],
    ['worker-throws.js', 'listen'],
    ['frozen.js'],
    ['replace-worker.js'],
    ['exec-argv.js'],
    ['crashes.js', 'atomics-ok'],
    ['crashes.js', 'worker-path'],
    ['crashes.js', 'spawn-args'],
    ['crashes.js', 'once-args'],
    ['crashes.js', 'exit-listener'],
    ['crashes.js', 'emitter'],
    ['crashes.js', 'child-enoent'],
    ['crashes.js', 'caught'],
  ];
  for (const [name, ...args] of programs) {
    it(`${[name, ...args].join(' ')}: same stdout, stderr and exit status`, async () => {
      await assertSameBehaviour([fixture(name), ...args]);
    });
  }

  it('an uncaught execSync failure prints the same crash (the agent\'s wrapper frame is not in it)', async () => {
    await assertSameBehaviour([fixture('crashes.js'), 'execSync'], {}, (text) => text.replace(/pid: \d+/g, 'pid: N'));
  });

  it('frozen objects, a replaced Worker and execArgv/eval/env workers are still tracked where possible', async () => {
    const frozen = await run([fixture('frozen.js')]);
    assert.ok(ofType(frozen.events, 'block').some((b) => b.on.kind === 'sync-child'));
    assert.ok(ofType(frozen.events, 'worker-exited').length === 1);
    const replaced = await run([fixture('replace-worker.js')]);
    assert.equal(replaced.stdout, 'answer 42 made 1 true\n');
    assert.equal(ofType(replaced.events, 'worker-created').length, 1);
    const execArgv = await run([fixture('exec-argv.js')]);
    assert.equal(execArgv.stdout, 'execArgv [] eval worker ran true\nenv-dropping worker ran true\nuntracked child undefined\n');
    // execArgv: [] keeps the agent (NODE_OPTIONS still applies); an env without NODE_OPTIONS does not.
    assert.deepEqual(ofType(execArgv.events, 'worker-created').map((c) => c.tracked), [true, false]);
    assert.equal(ofType(execArgv.events, 'hello').length, 2); // main and the execArgv [] worker
  });

  it('installs once when loaded twice (same path twice, and a second copy)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridlock-agent-copy-'));
    try {
      const copy = join(dir, 'agent-copy.js');
      copyFileSync(agentBundle, copy);
      const result = await run([fixture('hello.js')], { nodeOptions: `--require ${agentBundle} --require ${copy}` });
      assert.equal(result.stdout, 'main\nouter\ninner\nouter exited 0\n');
      assert.equal(ofType(result.events, 'hello').length, 3);
      assert.equal(ofType(result.events, 'worker-created').length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets the program open the inspector itself, and reports the new URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridlock-inspector-'));
    try {
      const urlFile = join(dir, 'url');
      const result = await run([fixture('inspector-user.js'), urlFile]);
      assert.equal(result.code, 0);
      assert.equal(result.stdout, 'opened\nclosed undefined\n');
      assert.equal(result.stderr, '');
      const hellos = ofType(result.events, 'hello');
      assert.equal(hellos.length, 2);
      assert.notEqual(hellos[0].inspectorUrl, hellos[1].inspectorUrl);
      assert.equal(hellos[1].inspectorUrl, readFileSync(urlFile, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does nothing at all without a hub', async () => {
    const probe = 'console.log(Symbol.for("gridlock.agent") in globalThis, String(Atomics.wait).includes("native code"), require("node:inspector").url())';
    const result = await run(['-e', probe], { agent: false, nodeOptions: `--require ${agentBundle} --inspect-publish-uid=http` });
    assert.equal(result.stdout, 'false true undefined\n');
    assert.equal(result.stderr, '');
  });

  it('keeps nothing alive: a program exits as soon as its own work is done', async () => {
    const started = Date.now();
    const result = await run(['-e', 'setTimeout(() => console.log("done"), 50)'], { env: { GRIDLOCK_SAMPLE_MS: '10000' } });
    assert.equal(result.stdout, 'done\n');
    assert.ok(Date.now() - started < 3000, 'exits promptly');
    assert.deepEqual(ofType(result.events, 'exit').map((e) => e.exitCode), [0]);
  });

  it('works when injected like attach does (no require in scope), through a binding', async () => {
    const result = await run([fixture('attach.js'), agentBundle], { agent: false });
    assert.equal(result.stderr, '');
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(report, {
      via: 'attach',
      token: '',
      newline: false,
      snapshotTypes: ['hello'],
      top: { functionName: 'whereAmI', line: 17, file: fixture('attach.js') },
      enumerable: false,
      version: '0.1.0',
    });
  });

  it('on a Node older than 20, only says hello with tooOld in each thread and installs nothing', async () => {
    const node18 = ensureNode18();
    const [withAgent, without] = await Promise.all([run([fixture('hello.js')], { node: node18 }), run([fixture('hello.js')], { node: node18, agent: false })]);
    assert.deepEqual([withAgent.code, withAgent.stdout, withAgent.stderr], [without.code, without.stdout, without.stderr]);
    assert.deepEqual(withAgent.events.map((e) => e.type), ['hello', 'hello', 'hello']);
    for (const hello of ofType(withAgent.events, 'hello')) assert.equal(hello.tooOld, true);
    assert.deepEqual(ofType(withAgent.events, 'hello').map((h) => h.isMainThread).sort(), [false, false, true]);
  });
});
