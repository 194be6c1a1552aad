// Programs as users write them: TypeScript run through tsx (the finding names the .ts lines, through
// source maps) and ES modules (`import { Worker } from 'node:worker_threads'`).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import type { Finding } from '../../src/protocol/report';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import { cliFixture, runGridlockSafely, type SafeRun } from '../helpers/cliHarness';
import { lineOf, runGridlock } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

const tsFile = cliFixture('hang.ts');
const tsWaitLine = lineOf(tsFile, 'Atomics.wait(cells, index, 0)');
const tsCallLine = lineOf(tsFile, 'waitForAuditor({');

function onlyStall(findings: Finding[] | undefined): Finding {
  const stalls = (findings ?? []).filter((f) => f.kind === 'stall');
  assert.equal(stalls.length, 1, JSON.stringify(findings, null, 1));
  return stalls[0];
}

function assertTsFinding(run: SafeRun): void {
  assert.equal(run.timedOut, false, `gridlock found the hang by itself:\n${run.stderr}`);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  assert.equal(run.stdout, 'accounts: 1\n');
  const stall = onlyStall(run.report?.findings);
  const main = stall.participants.find((p) => p.threadId === 0);
  assert.ok(main, JSON.stringify(stall.participants));
  assert.equal(main.role, 'blocked');
  // The .ts lines, not the compiled JavaScript's: the type declarations above shift them.
  assert.deepEqual([main.site?.file, main.site?.line], [tsFile, tsWaitLine]);
  assert.deepEqual([main.stack?.[0]?.file, main.stack?.[0]?.line], [tsFile, tsWaitLine]);
  assert.ok(main.stack?.some((f) => f.file === tsFile && f.line === tsCallLine), `the caller's .ts line is on the stack: ${JSON.stringify(main.stack)}`);
  assert.match(run.stderr, new RegExp(`main thread waits in Atomics\\.wait at test/fixtures/cli/hang\\.ts:${tsWaitLine}:`));
}

test('TypeScript through tsx (esbuild run per file, ESBUILD_WORKER_THREADS=0): the stall names the .ts lines', async () => {
  // Without its long-lived service process (see cliPendingFixes.test.ts), esbuild compiles each file in a
  // synchronous child call; nothing of tsx stays running next to the program.
  const run = await runGridlockSafely([testNode, '--import', 'tsx', tsFile], { env: { ...process.env, ESBUILD_WORKER_THREADS: '0' }, timeoutMs: 30_000 });
  assertTsFinding(run);
});

test('ESM with `import { Worker }`: the worker is tracked and its blocked site named', async () => {
  const mjs = cliFixture('hang.mjs');
  const workerFile = cliFixture('hangWorker.mjs');
  const run = await runGridlock([testNode, mjs]);
  assert.equal(run.timedOut, false, run.stderr);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  assert.equal(run.stdout, 'main: waiting for the worker\n');
  const stall = onlyStall(run.report?.findings);
  const worker = stall.participants.find((p) => p.threadId !== 0);
  assert.ok(worker, JSON.stringify(stall.participants));
  assert.equal(worker.role, 'blocked');
  assert.deepEqual([worker.site?.file, worker.site?.line], [pathToFileURL(workerFile).href, lineOf(workerFile, 'Atomics.wait(cells, 0, 0)')]);
  assert.ok(worker.stack?.some((f) => f.line === lineOf(workerFile, 'waitHere(); // called from')), 'the caller is on the stack');
  const main = stall.participants.find((p) => p.threadId === 0);
  assert.equal(main?.role, 'idle');
  assert.match(main?.detail ?? '', /waiting for worker 1 'esm-waiter'/);
  // The tree knows where the worker was created, in the .mjs file.
  const thread = run.report?.processes[0]?.threads.find((t) => t.threadId === 1);
  assert.deepEqual([thread?.name, thread?.script], ['esm-waiter', pathToFileURL(workerFile).href]);
  assert.match(run.stderr, new RegExp(`worker 1 'esm-waiter' of pid \\d+ started at test/fixtures/cli/hang\\.mjs:${lineOf(mjs, 'new Worker(')}:`));
});

test('ESM: frames of anonymous async functions keep their file name (no "async " prefix)', async () => {
  const run = await runGridlock([testNode, cliFixture('hang.mjs')]);
  assert.equal(run.code, EXIT_HANG_FOUND, run.stderr);
  const stall = onlyStall(run.report?.findings);
  const worker = stall.participants.find((p) => p.threadId !== 0)!;
  const workerUrl = pathToFileURL(cliFixture('hangWorker.mjs')).href;
  const files = (worker.stack ?? []).map((f) => f.file);
  assert.ok(files.every((f) => !f.startsWith('async ')), `frame files: ${JSON.stringify(files)}`);
  // `await (async () => { … })()` at the module's top level: that frame is in the worker's file.
  assert.ok(worker.stack?.some((f) => f.file === workerUrl && f.line === lineOf(cliFixture('hangWorker.mjs'), 'await (async () => {')), JSON.stringify(worker.stack));
});
