// Helpers of bench/run.ts: timing a command, comparing a case with and without Gridlock
// (alternating runs, median), finding latencies from reports, and printing the table.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FindingKind, Report } from '../src/protocol/report';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** First and third quartiles (linear interpolation between the closest ranks). */
export function quartiles(xs: number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => {
    const i = (s.length - 1) * q;
    const lo = Math.floor(i);
    return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (i - lo) : s[lo];
  };
  return [at(0.25), at(0.75)];
}

/** Runs a command to its end: its wall time in ms and its stdout (gridlock's own lines go to stderr). */
export function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && r.status !== 86) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout.toString() };
}

/** Wall time of a run, in ms. */
export const wallMs = (command: string, args: string[], env?: NodeJS.ProcessEnv): number => timed(command, args, env).ms;

/** The time the program says its work took: the last line of its stdout, in ms (start-up and exit excluded). */
export function workMs(command: string, args: string[]): number {
  const last = timed(command, args).stdout.trim().split('\n').pop() ?? '';
  const ms = Number(last);
  if (!Number.isFinite(ms)) throw new Error(`${args.join(' ')} printed ${JSON.stringify(last)}, not a time in ms`);
  return ms;
}

interface Row {
  name: string;
  goal: string;
  /** A comparison: medians without and with Gridlock, and how to show the difference. */
  without?: number;
  withGridlock?: number;
  added?: boolean;
  /** The median of the pairs' ratios (or differences, `added`). */
  paired?: number;
  /** The pairs' first and third quartiles: how far one pair's figure moves on this machine. */
  spread?: [number, number];
  /** A latency: the median and how many runs gave one. */
  latency?: { median: number | undefined; of: number };
}

export class Table {
  private readonly rows: Row[] = [];

  /** `only`: run just the cases whose name contains it (BENCH_ONLY). */
  constructor(
    private readonly runs: number,
    private readonly only = '',
  ) {}

  private skips(name: string): boolean {
    return this.only !== '' && !name.includes(this.only);
  }

  /**
   * Runs `bare` and `tracked` in pairs (after one warm-up each; which goes first alternates) and
   * keeps the medians of each and the median of the pairs' own ratios (or differences, `added`).
   * On a machine whose speed drifts by ±20% from one second to the next, a pair's two runs see
   * nearly the same machine: the paired figure is the steadier one, and the one the goals are read
   * against.
   */
  compare(name: string, goal: string, bare: () => number, tracked: () => number, added = false): void {
    if (this.skips(name)) return;
    const a: number[] = [];
    const b: number[] = [];
    const paired: number[] = [];
    bare(); // warm the file cache
    tracked();
    for (let i = 0; i < this.runs; i++) {
      let x: number;
      let y: number;
      if (i % 2 === 0) {
        x = bare();
        y = tracked();
      } else {
        y = tracked();
        x = bare();
      }
      a.push(x);
      b.push(y);
      paired.push(added ? y - x : y / x);
    }
    this.rows.push({ name, goal, without: median(a), withGridlock: median(b), paired: median(paired), spread: quartiles(paired), added });
  }

  /** Median of `measure()` over the runs; undefined results (no finding) are left out and show in the count. */
  latency(name: string, goal: string, measure: () => number | undefined): void {
    if (this.skips(name)) return;
    const values: number[] = [];
    for (let i = 0; i < this.runs; i++) {
      const v = measure();
      if (v !== undefined) values.push(v);
    }
    this.rows.push({ name, goal, latency: { median: values.length ? median(values) : undefined, of: values.length } });
  }

  print(title: string): void {
    const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
    console.log(`\n${title}, median of ${this.runs} runs; the ratio (or added ms) is the median of each pair's own, the pairs' quartiles after it\n`);
    console.log('| case | without | with Gridlock | ratio / added (quartiles) | goal |');
    console.log('|---|---|---|---|---|');
    for (const r of this.rows) {
      if (r.latency) {
        const { median: m, of } = r.latency;
        console.log(`| ${r.name} | | ${m === undefined ? '?' : fmt(m)} ms (median of ${of}) | | ${r.goal} |`);
        continue;
      }
      const [a, b] = [r.without ?? NaN, r.withGridlock ?? NaN];
      const show = (x: number) => (r.added ? `${x < 0 ? '−' : '+'}${fmt(Math.abs(x))} ms` : `${x.toFixed(3)}×`);
      const [q1, q3] = r.spread ?? [NaN, NaN];
      console.log(`| ${r.name} | ${fmt(a)} ms | ${fmt(b)} ms | ${show(r.paired ?? NaN)} (${show(q1)}–${show(q3)}) | ${r.goal} |`);
    }
  }
}

/**
 * Runs `gridlock run --no-live --json` (on `node`) on a program and returns `time - since` of its
 * first finding of `kind` (from the condition beginning, by the program's clock, to the finding), or undefined.
 */
export function findingLatency(node: string, gridlock: string, command: string[], kind: FindingKind): number | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-bench-'));
  try {
    const json = path.join(dir, 'r.json');
    spawnSync(node, [gridlock, 'run', '--no-live', '--json', json, '--', ...command], { stdio: 'ignore' });
    if (!fs.existsSync(json)) return undefined;
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as Report;
    const finding = report.findings.find((f) => f.kind === kind);
    return finding?.since === undefined ? undefined : finding.time - finding.since;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
