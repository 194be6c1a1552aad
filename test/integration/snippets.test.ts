// Every snippet, expanded with its defaults, is a program that works: the TypeScript ones
// type-check with tsc --strict, the JavaScript ones pass `node --check`, and each runs to its end
// under Node (TypeScript through tsx) with exit code 0, nothing on stderr and exactly the output of
// the table — except the teaching deadlocks, which must print their lines and then never end.
// Programs run two at a time, on the Node of test/helpers/testNode.ts (Node 24 under withNode24).
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeArgsOf, repoRequire, snippetEnv, testNodeVersion, writeSnippetPrograms } from '../helpers/snippetPrograms';
import { snippetRuns, type SnippetRun } from '../helpers/snippetTable';
import { testNode } from '../helpers/testNode';

const repoRoot = path.resolve(__dirname, '..', '..');
/** A completing snippet that runs longer than this is killed and fails (each should take < 2 s). */
const RUN_TIMEOUT_MS = 20_000;
/** A hanging snippet must still be running this long after it printed all its lines. */
const HANG_MS = 2_000;

// ---- the programs, written once into a temporary directory ----
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-snippets-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const programs = writeSnippetPrograms(work);
fs.writeFileSync(
  path.join(work, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2024'],
      types: ['node'],
      typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
      strict: true,
      noImplicitOverride: true,
      noUnusedLocals: true,
      erasableSyntaxOnly: true, // only type syntax that Node's own type stripping can remove
      noEmit: true,
      skipLibCheck: true,
    },
    include: ['ts/*.ts'],
  }),
);

const nodeVersion = testNodeVersion;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** For a hanging program: it was still running HANG_MS after its last expected line. */
  stillRunning: boolean;
}

/** Runs one program; with `hangs`, waits for its lines, checks it keeps running, then kills it. */
function runProgram(args: string[], run: SnippetRun): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(testNode, args, { cwd: work, env: snippetEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stillRunning = false;
    let hangTimer: NodeJS.Timeout | undefined;
    const killTimer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const expected = run.output.map((line) => `${line}\n`).join('');
    child.stdout.setEncoding('utf8').on('data', (data: string) => {
      stdout += data;
      if (run.hangs && !hangTimer && stdout.length >= expected.length) {
        hangTimer = setTimeout(() => {
          stillRunning = child.exitCode === null && child.signalCode === null;
          child.kill('SIGKILL');
        }, HANG_MS);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(hangTimer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, stillRunning });
    });
  });
}

const durations: Array<{ name: string; ms: number }> = [];
after(() => {
  const total = durations.reduce((sum, d) => sum + d.ms, 0);
  const slowest = [...durations].sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log(`# snippet programs on Node ${nodeVersion}: ${durations.length} runs, ${total} ms of program time; slowest: ${slowest.map((d) => `${d.name} ${d.ms} ms`).join(', ')}`);
});

void test('the TypeScript snippets type-check with tsc --strict (one run over all of them)', () => {
  const tsc = repoRequire.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(work, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

void describe(`the snippets run on Node ${nodeVersion}`, { concurrency: 2 }, () => {
  for (const program of programs) {
    const name = `${program.language} ${program.id}`;
    const verb = program.run.hangs ? 'deadlocks for real: prints its lines, then never ends' : 'runs to completion with the expected output';
    void test(`${name} ${verb}`, async () => {
      assert.ok(snippetRuns[program.id], `${program.id} has an entry in the run table`);
      const args = nodeArgsOf(program);
      if (program.language === 'javascript') {
        const check = spawnSync(testNode, ['--check', program.file], { encoding: 'utf8', env: snippetEnv() });
        assert.equal(check.status, 0, `node --check: ${check.stderr}`);
      }
      const outcome = await runProgram(args, program.run);
      durations.push({ name, ms: outcome.ms });
      const context = `${name} (${outcome.ms} ms, code ${outcome.code}, signal ${outcome.signal})\n--- stdout\n${outcome.stdout}--- stderr\n${outcome.stderr}`;
      assert.deepEqual(outcome.stdout.split('\n').slice(0, -1), program.run.output, context);
      assert.equal(outcome.stderr, '', context);
      if (program.run.hangs) {
        assert.equal(outcome.stillRunning, true, `it must not end by itself: ${context}`);
      } else {
        assert.equal(outcome.signal, null, context);
        assert.equal(outcome.code, 0, context);
      }
    });
  }
});
