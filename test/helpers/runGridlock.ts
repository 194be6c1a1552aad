import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Report } from '../../src/protocol/report';
import { killProcessGroup } from './processGroup';
import { testNode } from './testNode';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const gridlockBin = path.join(repoRoot, 'bin', 'gridlock.js');
export const hangsDir = path.join(repoRoot, 'test', 'fixtures', 'hangs');

/** What a finished command printed and how it ended. */
export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the test had to kill it: a hang the test did not expect. */
  timedOut: boolean;
}

/**
 * Runs a command to its end (killing it after `timeoutMs`) and collects its output. The command
 * runs in its own process group (`detached`, its stdio still piped here), and a timeout kills the
 * whole group: a program it started and left behind would otherwise keep the pipes open, and
 * 'close' would never come.
 */
export function runToEnd(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdin.on('error', () => {}); // the command may exit before reading its input (EPIPE)
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      killProcessGroup(child);
    }, options.timeoutMs ?? 30000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A gridlock run: its output, and the JSON report it wrote. */
export interface GridlockRun extends Ran {
  report: Report | undefined;
  /** stderr without gridlock's own lines: what the program itself wrote. */
  programStderr: string;
}

/** Runs `gridlock run --plain --json <tmp> [extra] -- <command…>` and reads the report. */
export async function runGridlock(command: string[], options: { extra?: string[]; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<GridlockRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-test-'));
  const json = path.join(dir, 'report.json');
  try {
    const ran = await runToEnd(process.execPath, [gridlockBin, 'run', '--plain', '--json', json, ...(options.extra ?? []), '--', ...command], options);
    const report = fs.existsSync(json) ? (JSON.parse(fs.readFileSync(json, 'utf8')) as Report) : undefined;
    return { ...ran, report, programStderr: withoutGridlockLines(ran.stderr) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes gridlock's own lines (and the blank line before its summary) from a stderr capture. */
export function withoutGridlockLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l, i, all) => !l.startsWith('gridlock: ') && !(l === '' && all[i + 1]?.startsWith('gridlock: ')))
    .join('\n');
}

/** The fixture's path and the node binary to run it with. */
export function nodeFixture(file: string, ...args: string[]): string[] {
  return [testNode, path.join(hangsDir, file), ...args];
}

/** 1-based line of the first line in `file` containing `text`: tests name lines by their code, not by number. */
export function lineOf(file: string, text: string, nth = 1): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) if (lines[i].includes(text) && ++seen === nth) return i + 1;
  throw new Error(`'${text}' not found in ${file}`);
}
