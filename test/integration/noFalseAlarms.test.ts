// No false alarms, and no harm: programs that are busy, sleeping, serving or idle on purpose run
// to their end under gridlock with no finding, the same output and the same exit status.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import { gridlockBin, nodeFixture, repoRoot, runGridlock, runToEnd, withoutGridlockLines } from '../helpers/runGridlock';

// A short stall window makes a false alarm likelier, so the test is stricter.
const strict = ['--stall-ms', '200'];

for (const [name, args] of [
  ['busy.js', ['1200']],
  ['sleeper.js', []],
  ['idleWorkers.js', ['1200']],
] as const) {
  test(`${name}: no finding, same output and exit status as without gridlock`, async () => {
    const bare = await runToEnd(nodeFixture(name)[0], [...nodeFixture(name, ...args).slice(1)]);
    const run = await runGridlock(nodeFixture(name, ...args), { extra: strict });
    assert.equal(run.timedOut, false, run.stderr);
    assert.deepEqual(run.report?.findings, [], run.stderr);
    assert.equal(run.code, bare.code);
    assert.equal(run.stdout, bare.stdout);
    assert.equal(run.programStderr, bare.stderr);
  });
}

test('a server waiting for connections is not a stall', async () => {
  const child = spawn(process.execPath, [gridlockBin, 'run', '--plain', '--verbose', ...strict, '--', ...nodeFixture('server.js')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const m = /listening (\d+)/.exec(d);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  // Let the idle server be seen by several stall checks (the behaviour under test is that none fires).
  await new Promise<void>((resolve) => {
    const seen = () => (stderr.match(/main thread of pid \d+: idle/g) ?? []).length;
    const poll = setInterval(() => {
      if (seen() >= 1 && stderr.length > 0) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  await new Promise((r) => setTimeout(r, 1000)); // five stall windows of idleness
  const body = await new Promise<string>((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/`, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => resolve(b));
    }).on('error', reject);
  });
  assert.equal(body, 'bye\n');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /Stall/);
  assert.match(stderr, /waits on server/);
  assert.equal(withoutGridlockLines(stderr).trim(), '');
});
