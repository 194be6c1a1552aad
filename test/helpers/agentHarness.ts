/**
 * Runs a program with the agent preloaded the way the host does it (NODE_OPTIONS --require plus a
 * real Hub), and collects what it printed, how it exited and every event its threads sent.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Hub } from '../../src/inspector/hub';
import type { AgentEvent } from '../../src/protocol/agentEvents';
import type { HubLine } from '../../src/protocol/hubWire';
import { testNode } from './testNode';

export const repoRoot = path.join(__dirname, '..', '..');
export const agentBundle = path.join(repoRoot, 'dist', 'agent.js');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures', 'agent');
export const fixture = (name: string): string => path.join(fixturesDir, name);

/** An event with the process (`sender`) and thread that sent it. */
export type SeenEvent = AgentEvent & { sender: number; thread: number };

export interface RunOptions {
  /** The node binary (default: testNode). */
  node?: string;
  /** false: run without agent and hub (the reference run). */
  agent?: boolean;
  env?: Record<string, string | undefined>;
  /** Extra NODE_OPTIONS after the agent's. */
  nodeOptions?: string;
  /** NODE_OPTIONS replacing the default (agent) one. */
  replaceNodeOptions?: string;
  timeoutMs?: number;
  /** Text for stdin, or 'keep' to leave it open for {@link AgentProgram.write}. */
  stdin?: string;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: HubLine[];
  events: SeenEvent[];
}

export class AgentProgram {
  readonly lines: HubLine[] = [];
  readonly events: SeenEvent[] = [];
  readonly rejected: string[] = [];
  readonly finished: Promise<Finished>;
  private readonly waiters: Array<{ test: (e: SeenEvent) => boolean; resolve: (e: SeenEvent) => void }> = [];
  private readonly child;
  private readonly hub: Hub | undefined;

  constructor(args: string[], options: RunOptions = {}) {
    const withAgent = options.agent !== false;
    this.hub = withAgent ? Hub.create() : undefined;
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.GRIDLOCK_HUB;
    delete env.GRIDLOCK_TOKEN;
    if (this.hub) {
      Object.assign(env, this.hub.env());
      env.NODE_OPTIONS = `--require ${agentBundle} --inspect-publish-uid=http${options.nodeOptions ? ` ${options.nodeOptions}` : ''}`;
      this.hub.onLine((line) => this.accept(line));
      this.hub.onRejected((r) => this.rejected.push(r.reason));
    } else if (options.nodeOptions) {
      env.NODE_OPTIONS = options.nodeOptions;
    }
    if (options.replaceNodeOptions !== undefined) env.NODE_OPTIONS = options.replaceNodeOptions;
    Object.assign(env, options.env ?? {});
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    this.child = spawn(options.node ?? testNode, args, { cwd: fixturesDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (options.stdin === 'keep') this.child.stdin.on('error', () => {});
    else this.child.stdin.end(options.stdin ?? '');
    let stdout = '';
    let stderr = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timeout = setTimeout(() => this.child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    this.finished = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        clearTimeout(timeout);
        if (this.hub) {
          this.hub.drain();
          this.hub.dispose();
        }
        resolve({ code, signal, stdout, stderr, lines: this.lines, events: this.events });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Writes to the program's stdin (opened with `stdin: 'keep'`). */
  write(text: string): void {
    this.child.stdin.write(text);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }

  /** Resolves with the first event (already seen or to come) that passes `test`; rejects after `timeoutMs`. */
  waitFor(test: (event: SeenEvent) => boolean, timeoutMs = 10_000, what = 'event'): Promise<SeenEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${this.events.map((e) => `${e.sender}/${e.thread}:${e.type}`).join(' ')}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  private accept(line: HubLine): void {
    this.lines.push(line);
    for (const event of line.e) {
      const seen = { ...event, sender: line.p, thread: line.t } as SeenEvent;
      this.events.push(seen);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.waiters[i].test(seen)) {
          this.waiters[i].resolve(seen);
          this.waiters.splice(i, 1);
        }
      }
    }
  }
}

/** Runs a program to its end. */
export function run(args: string[], options: RunOptions = {}): Promise<Finished> {
  return new AgentProgram(args, options).finished;
}

/** Events of one type, typed. */
export function ofType<T extends AgentEvent['type']>(events: SeenEvent[], type: T): Array<Extract<AgentEvent, { type: T }> & { sender: number; thread: number }> {
  return events.filter((e) => e.type === type) as Array<Extract<AgentEvent, { type: T }> & { sender: number; thread: number }>;
}
