/**
 * Helpers for the CLI integration tests (test/integration/cli*.test.ts): a command kept running
 * while the test watches its output for markers (event-driven, with a deadline: no sleeps), and
 * looks at processes from outside through /proc.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Report } from '../../src/protocol/report';
import { killProcessGroup } from './processGroup';
import { gridlockBin, repoRoot, withoutGridlockLines } from './runGridlock';
import { testNode } from './testNode';

export const cliFixturesDir = path.join(repoRoot, 'test', 'fixtures', 'cli');
export const cliFixture = (name: string): string => path.join(cliFixturesDir, name);

/** How a watched command ended. */
export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running command whose output the test can wait on. */
export class Watched {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly ended: Promise<Ended>;
  exitedAs: Ended | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    // Its own process group, so a test that gives up can end it with everything it started
    // (see processGroup.ts).
    this.child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdin.on('error', () => {}); // the command may exit before reading what we write
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.notify();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.notify();
    });
    this.ended = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        this.exitedAs = { code, signal, stdout: this.stdout, stderr: this.stderr };
        this.notify();
        resolve(this.exitedAs);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitedAs === undefined;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Other commands whose output a failed wait should show too (the program gridlock attached to). */
  readonly related: Watched[] = [];

  private context(): string {
    return this.related.map((w) => `\n[pid ${w.pid}${w.exitedAs ? `, ended ${w.exitedAs.code ?? w.exitedAs.signal}` : ''}] stdout: ${w.stdout}\n[pid ${w.pid}] stderr: ${w.stderr}`).join('');
  }

  /**
   * Resolves with the first match of `pattern` in the stream, as soon as it appears. Rejects when
   * the command ends without it or after `timeoutMs`, with what was printed.
   */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(this[stream]);
        if (match) {
          done();
          resolve(match);
        } else if (this.exitedAs) {
          done();
          reject(new Error(`ended (${this.exitedAs.code ?? this.exitedAs.signal}) before ${stream} showed ${pattern}:\nstdout: ${this.stdout}\nstderr: ${this.stderr}${this.context()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${stream} did not show ${pattern} within ${timeoutMs} ms:\nstdout: ${this.stdout}\nstderr: ${this.stderr}${this.context()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  write(text: string): void {
    this.child.stdin.write(text);
  }

  /** Waits for the end; kills it (and fails) after `timeoutMs`. */
  async finish(timeoutMs = 30_000): Promise<Ended> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stop();
        reject(new Error(`did not end within ${timeoutMs} ms:\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills it and every process of its group if it still runs (cleanup after a failed assertion). */
  stop(): void {
    if (this.running) killProcessGroup(this.child);
  }
}

/** What {@link runGridlockSafely} returns: {@link GridlockRun}'s fields. */
export interface SafeRun extends Ended {
  timedOut: boolean;
  report: Report | undefined;
  programStderr: string;
}

/**
 * Like runGridlock (`gridlock run --plain --json <tmp> [extra] -- <command…>`), but when it does not
 * end within `timeoutMs` the whole process group goes (gridlock and the program it started), so a
 * hang that gridlock misses fails the test instead of blocking it.
 */
export async function runGridlockSafely(command: string[], options: { extra?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<SafeRun> {
  const report = reportFile();
  const run = gridlock(['run', '--plain', '--json', report.path, ...(options.extra ?? []), '--', ...command], { env: options.env });
  run.child.stdin.end(options.input ?? '');
  try {
    let timedOut = false;
    const ended = await run.finish(options.timeoutMs ?? 30_000).catch(async () => {
      timedOut = true;
      return run.ended;
    });
    let parsed: Report | undefined;
    try {
      parsed = report.read();
    } catch {
      parsed = undefined;
    }
    return { ...ended, timedOut, report: parsed, programStderr: withoutGridlockLines(ended.stderr) };
  } finally {
    run.stop();
    report.cleanup();
  }
}

/** `gridlock <args…>` kept running, with stdin, stdout and stderr piped. */
export function gridlock(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Watched {
  return new Watched(process.execPath, [gridlockBin, ...args], options);
}

/** A temporary report path, and a reader for it. */
export function reportFile(): { path: string; read(): Report; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-cli-test-'));
  const file = path.join(dir, 'report.json');
  return {
    path: file,
    read: () => JSON.parse(fs.readFileSync(file, 'utf8')) as Report,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** `node --inspect=127.0.0.1:0 <fixture>` kept running, with its inspector port once it is listening. */
export async function startInspected(fixture: string, args: string[] = [], options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ program: Watched; port: number; url: string }> {
  const env = { ...(options.env ?? process.env) };
  delete env.NODE_OPTIONS;
  const program = new Watched(testNode, ['--inspect=127.0.0.1:0', fixture, ...args], { env });
  const match = await program.waitFor('stderr', /Debugger listening on (ws:\/\/127\.0\.0\.1:(\d+)\/\S+)/);
  return { program, port: Number(match[2]), url: match[1] };
}

/**
 * Whether a pid is a live process (a zombie counts as gone: it will never run again). Read from
 * /proc/<pid>/stat like src/cli/procfs.ts does.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Resolves once `test()` is true, checking every `everyMs`; rejects after `timeoutMs` with `what`. */
export async function eventually(what: string, test: () => boolean, timeoutMs = 5000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Kills a pid if it still runs (test cleanup). */
export function killIfAlive(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** The number of open file descriptors of a process (from /proc/<pid>/fd). */
export function openFdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** A loopback port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when a line printed by gridlock is one line (no stack trace, no second line) starting `gridlock: `. */
export function isOneGridlockLine(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l !== '');
  return lines.length === 1 && lines[0].startsWith('gridlock: ') && !/\n\s+at /.test(stderr);
}
