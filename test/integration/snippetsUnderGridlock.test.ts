// Every snippet, expanded with its defaults, run under `gridlock run --plain --json`: the report
// shows the entities it creates — its worker threads and child processes, its locks, semaphores,
// queues and pools (the home-made ones publish on diagnostics_channel; futex locks are seen in
// Atomics) — and no finding, with the program's own exit code and stdout; except the teaching
// deadlocks, which must give their one finding, with the lines where each participant waits and
// holds, and gridlock's exit status 86. Two programs at a time, on the Node of testNode.ts.
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report, ReportResource } from '../../src/protocol/report';
import { EXIT_HANG_FOUND } from '../../src/protocol/report';
import { lineOf, runGridlock, type GridlockRun } from '../helpers/runGridlock';
import { snippetsUnderGridlock, type ExpectedResource, type GridlockExpectation } from '../helpers/snippetGridlockTable';
import { nodeArgsOf, snippetEnv, testNodeVersion, writeSnippetPrograms, type SnippetProgram } from '../helpers/snippetPrograms';
import { testNode } from '../helpers/testNode';

/** A program that runs longer than this under gridlock is killed and fails (each takes a few seconds). */
const RUN_TIMEOUT_MS = 60_000;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-snippets-under-gridlock-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const programs = writeSnippetPrograms(work);

const libraryOf = (kind: ExpectedResource['kind']): string => (kind === 'futex' ? 'atomics' : 'diagnostics_channel');

function describeResource(r: ReportResource): string {
  return JSON.stringify({ kind: r.kind, library: r.library, name: r.name, capacity: r.capacity, completed: r.completed, workerThreadIds: r.workerThreadIds });
}

/** Whether report resource `r` is the expected one (every field the table gives). */
function matches(r: ReportResource, e: ExpectedResource, workerThreads: Set<number>): boolean {
  if (r.kind !== e.kind || r.library !== libraryOf(e.kind)) return false;
  if (e.name !== undefined && r.name !== e.name) return false;
  if (e.capacity !== undefined && r.capacity !== e.capacity) return false;
  if (e.completed !== undefined && r.completed !== e.completed) return false;
  if (e.workers !== undefined) {
    const ids = r.workerThreadIds ?? [];
    if (ids.length !== e.workers || !ids.every((id) => workerThreads.has(id))) return false;
  }
  return true;
}

/** The snippet's own worker threads (of its root process) and child processes, by the file they run. */
function entitiesOf(report: Report, file: string): { threads: number; rootWorkerIds: Set<number>; processes: number } {
  const isFile = (script: string): boolean => (script.startsWith('file:') ? fileURLToPath(script) : path.resolve(script)) === file;
  const runsFile = (argv: string[]): boolean => argv.some(isFile);
  let threads = 0;
  const rootWorkerIds = new Set<number>();
  for (const p of report.processes) {
    for (const t of p.threads) {
      if (t.threadId === 0 || !isFile(t.script)) continue;
      threads++;
      if (p.startedBy === null) rootWorkerIds.add(t.threadId);
    }
  }
  const processes = report.processes.filter((p) => p.startedBy !== null && runsFile(p.argv)).length;
  return { threads, rootWorkerIds, processes };
}

function checkResources(report: Report, expected: GridlockExpectation, rootWorkerIds: Set<number>, context: string): void {
  const unmatched = [...report.resources];
  const missing: ExpectedResource[] = [];
  for (const e of expected.resources) {
    const at = unmatched.findIndex((r) => matches(r, e, rootWorkerIds));
    if (at >= 0) unmatched.splice(at, 1);
    else if (!e.optional) missing.push(e);
  }
  assert.deepEqual(
    { missing, unexpected: unmatched.map(describeResource) },
    { missing: [], unexpected: [] },
    `the resources of the report are those of the table\n--- report resources\n${report.resources.map(describeResource).join('\n')}\n${context}`,
  );
}

function checkFinding(run: GridlockRun, report: Report, program: SnippetProgram, expected: GridlockExpectation, context: string): void {
  const want = expected.finding;
  if (want === undefined) {
    assert.deepEqual(
      report.findings.map((f) => `${f.kind}: ${f.message}`),
      [],
      `no findings\n${context}`,
    );
    return;
  }
  assert.deepEqual(
    report.findings.map((f) => f.kind),
    [want.kind],
    `exactly one ${want.kind}\n${report.findings.map((f) => `${f.kind}: ${f.message}`).join('\n')}\n${context}`,
  );
  const finding = report.findings[0];
  const waitLine = lineOf(program.file, want.waitsAt);
  const holdLine = lineOf(program.file, want.holdsAt);
  const at = (role: string): Array<string | undefined> =>
    finding.participants.filter((p) => p.role === role).map((p) => (p.site ? `${path.resolve(p.site.file)}:${p.site.line}` : undefined));
  assert.deepEqual(at('waits'), Array<string>(want.waiters).fill(`${program.file}:${waitLine}`), `each participant waits at line ${waitLine}\n${finding.message}\n${context}`);
  assert.deepEqual(at('holds'), Array<string>(want.waiters).fill(`${program.file}:${holdLine}`), `each participant holds what it took at line ${holdLine}\n${finding.message}\n${context}`);
  assert.equal(run.code, EXIT_HANG_FOUND, context);
  assert.equal(report.gridlockExitCode, EXIT_HANG_FOUND, context);
}

void describe(`the snippets under gridlock run on Node ${testNodeVersion}`, { concurrency: 2 }, () => {
  for (const program of programs) {
    const expected = snippetsUnderGridlock[program.id];
    const name = `${program.language} ${program.id}`;
    const what = expected?.finding ? `gives its ${expected.finding.kind}, with the lines where each participant waits and holds` : 'shows what it creates, and no findings';
    void test(`${name} ${what}`, { timeout: RUN_TIMEOUT_MS * 2 }, async () => {
      assert.ok(expected, `${program.id} has an entry in the gridlock table`);
      const run = await runGridlock([testNode, ...nodeArgsOf(program)], { cwd: work, env: snippetEnv(), timeoutMs: RUN_TIMEOUT_MS });
      const context = `${name} (code ${run.code}, signal ${run.signal}, timed out: ${run.timedOut})\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
      assert.equal(run.timedOut, false, context);
      const report = run.report ?? assert.fail(`no report\n${context}`);

      checkFinding(run, report, program, expected, context);
      const lines = run.stdout.split('\n').slice(0, -1);
      if (expected.finding) {
        // Stopped once the cycle is found: what it printed is the start of what it prints without gridlock.
        assert.deepEqual(lines, program.run.output.slice(0, lines.length), `stdout is the start of the program's own\n${context}`);
      } else {
        assert.deepEqual(lines, program.run.output, `stdout is the program's own\n${context}`);
        assert.equal(run.code, 0, `gridlock exits with the program's own status\n${context}`);
        assert.equal(report.exitCode, 0, context);
      }
      assert.equal(run.programStderr, '', `the program writes nothing on stderr\n${context}`);

      const { threads, rootWorkerIds, processes } = entitiesOf(report, program.file);
      assert.deepEqual({ threads, processes }, { threads: expected.threads, processes: expected.processes }, `worker threads and child processes running ${path.basename(program.file)}\n${context}`);
      checkResources(report, expected, rootWorkerIds, context);
    });
  }
});
