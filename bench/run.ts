// `npm run bench`: each case with and without Gridlock in one run, alternating, median of several
// runs; prints absolute figures and ratios. Goals come from the issues; nothing here asserts.
// BENCH_RUNS sets the number of runs (7), BENCH_ONLY a part of the names of the cases to run; GRIDLOCK_TEST_NODE the Node that runs
// the programs and gridlock itself, as for a user with that Node (Node 24: `node scripts/withNode24.mjs npm run bench`).
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { Hub } from '../src/inspector/hub';
import { nodeOptionsWithAgent } from '../src/cli/launchEnv';
import { findingLatency, Table, wallMs, workMs } from './measure';
import { lockWaitMsAmong } from './modelCost';

const root = path.resolve(__dirname, '..');
const agent = path.join(root, 'dist', 'agentLoader.js');
const gridlock = path.join(root, 'bin', 'gridlock.js');
const node = process.env.GRIDLOCK_TEST_NODE || process.execPath;
const runs = Number(process.env.BENCH_RUNS || 7);
const table = new Table(runs, process.env.BENCH_ONLY);

// 1. Start-up cost per tracked process: `node -e 0` with the agent preloaded and a hub listening.
const hub = Hub.create();
const agentEnv = { ...process.env, NODE_OPTIONS: nodeOptionsWithAgent(process.env.NODE_OPTIONS, agent), ...hub.env() };
table.compare('start-up of `node -e 0` (added ms per process)', '≤ 30 ms added', () => wallMs(node, ['-e', '0']), () => wallMs(node, ['-e', '0'], agentEnv), true);
hub.dispose();

// 2–4: whole programs under `gridlock run` against the bare program, wall time.
const fixture = (f: string) => path.join(root, 'bench', 'fixtures', f);
const testFixture = (dir: string, f: string) => path.join(root, 'test', 'fixtures', dir, f);
const underGridlock = (args: string[]) => [gridlock, 'run', '--no-live', '--', node, ...args];
table.compare('`gridlock run -- node -e 0` (the CLI\'s fixed cost)', 'informational', () => wallMs(node, ['-e', '0']), () => wallMs(node, underGridlock(['-e', '0'])), true);
// Long enough (≈ 4 s) that the CLI's fixed start-up is a fair share of it, as in real use.
const hashRounds = process.env.BENCH_HASH_ROUNDS || '1000000';
const wallCase = (name: string, goal: string, args: string[]) => table.compare(name, goal, () => wallMs(node, args), () => wallMs(node, underGridlock(args)));
wallCase('4 workers hashing (CPU-bound), wall time', '≤ 1.03×', [fixture('hashWorkers.js'), hashRounds]);
wallCase('200 short-lived workers, wall time', '≤ 1.25×', [fixture('manyWorkers.js')]);

// 5–7: lock workloads under `gridlock run`, timed by the program itself (its work only: the CLI's
// fixed start-up is case 2's figure, the agent's per process case 1's).
const workCase = (name: string, goal: string, args: string[]) => table.compare(name, goal, () => workMs(node, args), () => workMs(node, underGridlock(args)));
workCase('1,000,000 uncontended async-mutex acquire/release pairs, `gridlock run`, work time', '≤ 1.15×', [fixture('asyncMutex.js')]);
workCase('contended locks under a p-queue (heavy.js × 50: 150,000 jobs), `gridlock run`, work time', '≤ 1.10×', [fixture('contendedLocks.js')]);
workCase('promise-heavy program, no lock library (5,000,000 awaits), `gridlock run`, work time', '≤ 1.02×', [fixture('promises.js')]);

// 8. From the hang becoming certain (the last thread falling asleep) to the stall finding.
table.latency('hang certain → stall finding', '≤ 1000 ms', () => findingLatency(node, gridlock, [node, testFixture('hangs', 'futexDeadWorker.js')], 'stall'));
// 9, 10. From the cycle closing (the last wait of the cycle began, by the waiting thread's clock) to the deadlock finding.
table.latency('cycle closes → deadlock finding: two async-mutex tasks of one thread', '≤ 100 ms', () => findingLatency(node, gridlock, [node, testFixture('locks', 'mutex-deadlock.js')], 'deadlock'));
table.latency('cycle closes → deadlock finding: futex locks of two worker threads', '≤ 100 ms', () => findingLatency(node, gridlock, [node, testFixture('locks', 'futex.js')], 'deadlock'));
// 11. The engine alone: one lock-wait event among 10,000 held mutexes (no agent, no transport).
table.latency('model: one lock-wait among 10,000 held mutexes (ms per event)', '≤ 5 ms', () => lockWaitMsAmong(10_000));

table.print(`Gridlock bench — node ${spawnSync(node, ['--version']).stdout.toString().trim()}, ${os.cpus().length} cores`);
