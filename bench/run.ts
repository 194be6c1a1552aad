// `npm run bench`: each case with and without Gridlock in one run, alternating, median of several
// runs; prints absolute figures and ratios. Goals come from the issues; nothing here asserts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Hub } from '../src/inspector/hub';
import { nodeOptionsWithAgent } from '../src/cli/launchEnv';
import type { Report } from '../src/protocol/report';

const root = path.resolve(__dirname, '..');
const agent = path.join(root, 'dist', 'agent.js');
const gridlock = path.join(root, 'bin', 'gridlock.js');
const node = process.env.GRIDLOCK_TEST_NODE || process.execPath;
const runs = Number(process.env.BENCH_RUNS || 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeMs(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  // gridlock's own summary goes to stderr: keep it off the table.
  const r = spawnSync(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && r.status !== 86) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

interface Row {
  name: string;
  without: number;
  withGridlock: number;
  goal: string;
  unit: string;
}

const rows: Row[] = [];
function compare(name: string, goal: string, bare: () => number, tracked: () => number, unit = 'ms'): void {
  const a: number[] = [];
  const b: number[] = [];
  bare(); // warm the file cache
  tracked();
  for (let i = 0; i < runs; i++) {
    a.push(bare());
    b.push(tracked());
  }
  rows.push({ name, without: median(a), withGridlock: median(b), goal, unit });
}

// 1. Start-up cost per tracked process: `node -e 0` with the agent preloaded and a hub listening.
const hub = Hub.create();
const agentEnv = { ...process.env, NODE_OPTIONS: nodeOptionsWithAgent(process.env.NODE_OPTIONS, agent), ...hub.env() };
compare('start-up of `node -e 0` (added ms per process)', '≤ 30 ms added', () => timeMs(node, ['-e', '0']), () => timeMs(node, ['-e', '0'], agentEnv));
hub.dispose();

// 2, 3: whole programs under `gridlock run` against the bare program.
const fixture = (f: string) => path.join(root, 'bench', 'fixtures', f);
const underGridlock = (args: string[]) => () => timeMs(process.execPath, [gridlock, 'run', '--no-live', '--', node, ...args]);
compare('`gridlock run -- node -e 0` (the CLI\'s fixed cost)', 'informational', () => timeMs(node, ['-e', '0']), underGridlock(['-e', '0']));
// Long enough (≈ 4 s) that the CLI's fixed start-up is a fair share of it, as in real use.
const hashRounds = process.env.BENCH_HASH_ROUNDS || '800000';
compare('4 workers hashing (CPU-bound), wall time', '≤ 1.03×', () => timeMs(node, [fixture('hashWorkers.js'), hashRounds]), underGridlock([fixture('hashWorkers.js'), hashRounds]));
compare('200 short-lived workers, wall time', '≤ 1.25×', () => timeMs(node, [fixture('manyWorkers.js')]), underGridlock([fixture('manyWorkers.js')]));

// 4. From the hang becoming certain (the last thread falling asleep) to the stall finding.
const latencies: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlock-bench-'));
  const json = path.join(dir, 'r.json');
  spawnSync(process.execPath, [gridlock, 'run', '--no-live', '--json', json, '--', node, path.join(root, 'test', 'fixtures', 'hangs', 'futexDeadWorker.js')], { stdio: 'ignore' });
  const report = JSON.parse(fs.readFileSync(json, 'utf8')) as Report;
  const stall = report.findings.find((f) => f.kind === 'stall');
  if (stall?.since !== undefined) latencies.push(stall.time - stall.since);
  fs.rmSync(dir, { recursive: true, force: true });
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log(`\nGridlock bench — node ${spawnSync(node, ['--version']).stdout.toString().trim()}, ${os.cpus().length} cores, median of ${runs} runs\n`);
console.log('| case | without | with Gridlock | ratio / added | goal |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const ratio = r.name.includes('added') || r.goal === 'informational' ? `+${fmt(r.withGridlock - r.without)} ms` : `${(r.withGridlock / r.without).toFixed(3)}×`;
  console.log(`| ${r.name} | ${fmt(r.without)} ${r.unit} | ${fmt(r.withGridlock)} ${r.unit} | ${ratio} | ${r.goal} |`);
}
console.log(`| hang certain → stall finding | | ${latencies.length ? fmt(median(latencies)) : '?'} ms (median of ${latencies.length}) | | ≤ 1000 ms |`);
