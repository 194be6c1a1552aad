// The snippets as programs: each snippet of both .code-snippets files expanded with its defaults
// (as VS Code inserts it) into a file of a temporary directory, and how to run it — JavaScript
// with node, TypeScript through tsx — on the Node of test/helpers/testNode.ts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expandSnippet } from './snippetExpand';
import { pyPrefixOf, readSnippetFile, snippetLanguages, snippetRuns, type SnippetRun } from './snippetTable';
import { testNode } from './testNode';

const repoRoot = path.resolve(__dirname, '..', '..');
export const repoRequire = createRequire(path.join(repoRoot, 'package.json'));

export interface SnippetProgram {
  language: 'javascript' | 'typescript';
  /** The snippet's py- prefix: its id in the tables. */
  id: string;
  /** The expanded program. */
  file: string;
  /** What it prints without Gridlock (test/helpers/snippetTable.ts). */
  run: SnippetRun;
}

/**
 * Writes every snippet, expanded, into `work`/js and `work`/ts, with a package.json that makes
 * them CommonJS (as the snippets are written: `node file.js`, and TypeScript with __filename).
 */
export function writeSnippetPrograms(work: string): SnippetProgram[] {
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ private: true, type: 'commonjs' }));
  const programs: SnippetProgram[] = [];
  for (const { language, ext, file } of snippetLanguages) {
    fs.mkdirSync(path.join(work, ext), { recursive: true });
    for (const entry of Object.values(readSnippetFile(file))) {
      const id = pyPrefixOf(entry);
      const target = path.join(work, ext, `${id.slice(3)}.${ext}`);
      fs.writeFileSync(target, `${expandSnippet(entry.body)}\n`);
      programs.push({ language, id, file: target, run: snippetRuns[id] ?? { output: [] } });
    }
  }
  return programs;
}

/** The version of the Node that runs the programs. */
export const testNodeVersion = spawnSync(testNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();

/**
 * tsx registers its hooks in worker threads only where Node lets each thread have its own
 * (Node 22.22.3+, 24.11.1+, 25.1+; privatenumber/tsx#354): there `--import tsx`, as users run it.
 * On older Node (20), a worker started from a .ts file would not be compiled, so the CommonJS
 * hook is preloaded instead (`--require tsx/cjs`), which every thread loads by itself.
 */
export function tsxFlags(version: string): string[] {
  const [major, minor, patch] = version.split('.').map(Number);
  const atLeast = (m: number, p: number): boolean => minor > m || (minor === m && patch >= p);
  const workersHooked = (major === 22 && atLeast(22, 3)) || (major === 24 && atLeast(11, 1)) || (major === 25 && atLeast(1, 0)) || major >= 26;
  return workersHooked ? ['--import', pathToFileURL(repoRequire.resolve('tsx')).href] : ['--require', repoRequire.resolve('tsx/cjs')];
}

/** The node arguments that run `program` (TypeScript through tsx). */
export function nodeArgsOf(program: SnippetProgram): string[] {
  return program.language === 'typescript' ? [...tsxFlags(testNodeVersion), program.file] : [program.file];
}

/** The environment of a program: this test run's, without what node --test sets for its own children. */
export function snippetEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return env;
}
