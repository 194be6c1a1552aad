/**
 * The agent inside real programs: what each thread and process reports through a real Hub.
 * Programs run on `testNode` (Node 24 under scripts/withNode24.mjs).
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { AgentProgram, agentBundle, fixture, ofType, repoRoot, run } from '../helpers/agentHarness';
import type { SeenEvent } from '../helpers/agentHarness';

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'ignore' });
});

const withoutEmitFrames = (stderr: string): string => stderr.replace(/(Emitted 'error' event on Worker instance at:\n)( {4}at .*\n)+/, '$1');
const threadsOf = (events: SeenEvent[]): string[] => [...new Set(events.map((e) => `${e.sender}/${e.thread}`))];

describe('agent: threads', () => {
  it('is built as ASCII only: every thread reads the bundle as latin1, and attach sends it in an evaluation', () => {
    const bytes = fs.readFileSync(agentBundle);
    const outside = bytes.findIndex((b) => b > 0x7e || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d));
    // The agent's sources have non-ASCII characters in comments, which esbuild keeps: without the
    // build's escaping this fails.
    assert.equal(outside, -1, `byte ${outside} of dist/agent.js is not printable ASCII`);
  });

  it('sends hello for the main thread and nested workers, and worker-created from the creating thread', async () => {
    const result = await run([fixture('hello.js')]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'main\nouter\ninner\nouter exited 0\n');
    const hellos = ofType(result.events, 'hello');
    assert.equal(hellos.length, 3);
    const main = hellos.find((h) => h.isMainThread);
    assert.ok(main);
    assert.equal(main.name, 'main');
    assert.equal(main.script, fixture('hello.js'));
    assert.match(main.inspectorUrl ?? '', /^ws:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(main.via, 'preload');
    const created = ofType(result.events, 'worker-created');
    const outer = created.find((c) => c.name === 'outer');
    const inner = created.find((c) => c.name === 'inner');
    assert.ok(outer && inner);
    // worker-created comes from the creating thread, with the line of `new Worker`.
    assert.equal(outer.thread, 0);
    assert.equal(inner.thread, outer.threadId);
    assert.deepEqual([outer.site?.file, outer.site?.line], [fixture('hello.js'), 5]);
    assert.deepEqual([inner.site?.file, inner.site?.line], [fixture('hello.js'), 9]);
    assert.equal(outer.tracked, true);
    // Each worker announces itself with the name and script its parent gave it; no inspector in workers.
    const outerHello = hellos.find((h) => h.threadId === outer.threadId);
    assert.deepEqual([outerHello?.name, outerHello?.script, outerHello?.isMainThread, outerHello?.inspectorUrl], ['outer', fixture('hello.js'), false, undefined]);
    assert.ok(hellos.find((h) => h.threadId === inner.threadId && h.name === 'inner'));
    // Every thread's first event is hello, its last exit; sequence numbers have no gaps.
    for (const key of threadsOf(result.events)) {
      const own = result.events.filter((e) => `${e.sender}/${e.thread}` === key);
      assert.equal(own[0].type, 'hello', key);
      assert.equal(own[own.length - 1].type, 'exit', key);
      const seqs = result.lines.filter((l) => `${l.p}/${l.t}` === key).map((l) => l.s);
      assert.deepEqual(seqs, seqs.map((_, i) => i), key);
    }
    const exited = ofType(result.events, 'worker-exited');
    assert.deepEqual(exited.map((e) => [e.thread, e.threadId, e.exitCode]).sort(), [[0, outer.threadId, 0], [outer.threadId, inner.threadId, 0]].sort());
  });

  it('reports a worker that throws at start-up, and the parent still crashes the same way', async () => {
    const [withAgent, without] = await Promise.all([run([fixture('worker-throws.js')]), run([fixture('worker-throws.js')], { agent: false })]);
    assert.equal(withAgent.code, 1);
    assert.equal(withAgent.code, without.code);
    // Node itself delivers the worker's error either from its message handler or, when the worker's
    // exit is processed first, from its exit handler: the "Emitted 'error' event" frames depend on
    // that race, so they are left out of the comparison.
    assert.equal(withoutEmitFrames(withAgent.stderr), withoutEmitFrames(without.stderr));
    assert.match(withAgent.stderr, /TypeError: boom at start-up/);
    const exited = ofType(withAgent.events, 'worker-exited');
    assert.equal(exited.length, 1);
    assert.equal(exited[0].exitCode, 1);
    assert.deepEqual([exited[0].error?.name, exited[0].error?.message], ['TypeError', 'boom at start-up']);
    // The worker itself says why it ended.
    const workerExit = ofType(withAgent.events, 'exit').find((e) => e.thread === exited[0].threadId);
    assert.equal(workerExit?.error?.message, 'boom at start-up');
    const mainExit = ofType(withAgent.events, 'exit').find((e) => e.thread === 0);
    assert.equal(mainExit?.exitCode, 1);
  });

  it('reports the worker error when the parent listens for it', async () => {
    const result = await run([fixture('worker-throws.js'), 'listen']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'parent saw boom at start-up\nexit 1\n');
    const exited = ofType(result.events, 'worker-exited');
    assert.deepEqual([exited.length, exited[0].exitCode, exited[0].error?.message], [1, 1, 'boom at start-up']);
  });

  it('sees workers made through the ES module import of Worker', async () => {
    const result = await run([fixture('tla.mjs')]);
    const created = ofType(result.events, 'worker-created');
    assert.deepEqual(created.map((c) => [c.name, c.script, c.site?.line]), [['esm-made', '[worker eval]', 5]]);
    assert.match(created[0].site?.file ?? '', /^file:\/\/.*tla\.mjs$/);
  });
});

describe('agent: samples', () => {
  const sampleOf = async (mode: string, test: (e: SeenEvent) => boolean): Promise<{ program: AgentProgram; sample: SeenEvent }> => {
    const program = new AgentProgram([fixture('samples.js'), mode], { env: { GRIDLOCK_SAMPLE_MS: '20' } });
    try {
      const sample = await program.waitFor((e) => e.type === 'sample' && test(e), 10_000, `a ${mode} sample`);
      return { program, sample };
    } finally {
      program.kill();
      await program.finished;
    }
  };

  it('an idle thread with a listening server waits on an external source', async () => {
    const { sample } = await sampleOf('server', (e) => e.type === 'sample' && e.external.some((x) => x.startsWith('server')) && e.state === 'idle');
    assert.ok(sample.type === 'sample');
    assert.deepEqual(sample.internal, []);
    assert.equal(sample.external.length, 1);
    assert.match(sample.external[0], /^server :\d+$/);
    assert.ok(sample.elu >= 0 && sample.elu < 0.05);
    assert.equal(typeof sample.heapUsed, 'number');
    assert.equal(typeof sample.cpuUs, 'number');
  });

  it('a pending timer is external; the agent\'s own timers are not listed', async () => {
    const { sample } = await sampleOf('timer', (e) => e.type === 'sample' && e.state === 'idle');
    assert.ok(sample.type === 'sample');
    assert.deepEqual([sample.external, sample.internal], [['timer'], []]);
  });

  it('a busy loop is running', async () => {
    const { sample } = await sampleOf('busy', (e) => e.type === 'sample' && e.state === 'running' && e.elu > 0.5);
    assert.ok(sample.type === 'sample' && sample.external.includes('immediate'));
  });

  it('threads waiting on each other\'s messages wait internally', async () => {
    const program = new AgentProgram([fixture('samples.js'), 'worker'], { env: { GRIDLOCK_SAMPLE_MS: '20' } });
    try {
      const created = await program.waitFor((e) => e.type === 'worker-created');
      assert.ok(created.type === 'worker-created');
      const mainSample = await program.waitFor((e) => e.type === 'sample' && e.thread === 0 && e.internal.some((w) => w.kind === 'worker'));
      assert.ok(mainSample.type === 'sample');
      assert.deepEqual(mainSample.internal, [{ kind: 'worker', threadId: created.threadId }]);
      assert.deepEqual(mainSample.external, []);
      const workerSample = await program.waitFor((e) => e.type === 'sample' && e.thread === created.threadId && e.state === 'idle');
      assert.ok(workerSample.type === 'sample');
      assert.deepEqual([workerSample.internal, workerSample.external, workerSample.state], [[{ kind: 'port', description: 'parentPort' }], [], 'idle']);
    } finally {
      program.kill();
      await program.finished;
    }
  });
});

describe('agent: samples of processes', () => {
  it('waiting on a child process (exit and output) is internal', async () => {
    const program = new AgentProgram([fixture('samples.js'), 'child'], { env: { GRIDLOCK_SAMPLE_MS: '20' } });
    try {
      const spawned = await program.waitFor((e) => e.type === 'child-spawned');
      assert.ok(spawned.type === 'child-spawned');
      const sample = await program.waitFor((e) => e.type === 'sample' && e.internal.some((w) => w.kind === 'child'));
      assert.ok(sample.type === 'sample');
      assert.deepEqual([sample.internal, sample.external], [[{ kind: 'child', pid: spawned.pid, ipc: false, stdio: true }], []]);
    } finally {
      program.kill();
      await program.finished;
    }
  });

  it('a parent and its forked child waiting on each other through IPC are internal on both sides', async () => {
    const program = new AgentProgram([fixture('samples.js'), 'fork'], { env: { GRIDLOCK_SAMPLE_MS: '20' } });
    try {
      const spawned = await program.waitFor((e) => e.type === 'child-spawned');
      assert.ok(spawned.type === 'child-spawned' && spawned.ipc);
      const parent = await program.waitFor((e) => e.type === 'sample' && e.sender === program.pid && e.internal.some((w) => w.kind === 'child'));
      assert.ok(parent.type === 'sample');
      assert.deepEqual([parent.internal, parent.external], [[{ kind: 'child', pid: spawned.pid, ipc: true, stdio: false }], []]);
      const child = await program.waitFor((e) => e.type === 'sample' && e.sender === spawned.pid && e.state === 'idle');
      assert.ok(child.type === 'sample');
      assert.deepEqual([child.internal, child.external], [[{ kind: 'parent-ipc', ppid: program.pid }], []]);
    } finally {
      program.kill();
      await program.finished;
    }
  });

  it('cluster.fork is reported with method cluster', async () => {
    const result = await run([fixture('cluster.js')]);
    assert.equal(result.stdout, 'worker online\nworker exit 0\n');
    const spawned = ofType(result.events, 'child-spawned');
    assert.deepEqual(spawned.map((s) => [s.method, s.ipc, s.site?.line]), [['cluster', true, 4]]);
    assert.equal(ofType(result.events, 'hello').find((h) => h.pid === spawned[0].pid)?.ppid, result.events[0].sender);
  });
});

describe('agent: blocking', () => {
  it('reports Atomics.wait in main and in a worker that blocks at top level', async () => {
    const program = new AgentProgram([fixture('atomics.js')], { stdin: 'keep' });
    const workerBlock = await program.waitFor((e) => e.type === 'block' && e.thread !== 0, 10_000, 'the worker blocking');
    program.write('go\n');
    const result = await program.finished;
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'main wait: timed-out\nworker wait: ok\nworker exit 0\n');
    const mainBlocks = ofType(result.events, 'block').filter((e) => e.thread === 0);
    assert.equal(mainBlocks.length, 1);
    const main = mainBlocks[0];
    assert.ok(main.on.kind === 'atomics.wait');
    assert.deepEqual([main.on.index, main.on.byteOffset, main.on.value, main.on.timeoutMs, main.on.buffer.byteLength], [1, 4, 0, 30, 8]);
    assert.deepEqual([main.site?.file, main.site?.line, main.site?.column], [fixture('atomics.js'), 6, 37]);
    assert.equal(main.stack[0].line, 6);
    const mainEvents = result.events.filter((e) => e.thread === 0).map((e) => e.type);
    assert.equal(mainEvents[mainEvents.indexOf('block') + 1], 'unblock');
    assert.equal(ofType(result.events, 'unblock').find((e) => e.thread === 0)?.result, 'timed-out');

    // The worker's block names the buffer by its workerData path, with the id its parent gave it.
    assert.ok(workerBlock.type === 'block' && workerBlock.on.kind === 'atomics.wait');
    assert.deepEqual([workerBlock.on.index, workerBlock.on.byteOffset, workerBlock.on.timeoutMs, workerBlock.on.buffer.label], [2, 8, null, 'workerData.signal']);
    assert.equal(workerBlock.site?.line, 21);
    const created = ofType(result.events, 'worker-created')[0];
    assert.deepEqual(created.sharedBuffers, [{ id: workerBlock.on.buffer.id, byteLength: 16, label: 'workerData.signal' }]);
    assert.match(workerBlock.on.buffer.id, new RegExp(`^${program.pid}:0:\\d+$`));
    // The worker never turned its loop before blocking: its hello and block arrived anyway.
    const workerEvents = result.events.filter((e) => e.thread === created.threadId).map((e) => e.type);
    assert.deepEqual(workerEvents, ['hello', 'block', 'unblock', 'exit']);
    assert.equal(ofType(result.events, 'unblock').find((e) => e.thread === created.threadId)?.result, 'ok');
  });

  it('keeps every line within MAX_LINE_BYTES, trimming events that are too big', async () => {
    const longArgs = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(300, 'y'));
    const result = await run([fixture('big-events.js'), ...longArgs]);
    assert.equal(result.code, 0);
    for (const line of result.lines) assert.ok(Buffer.byteLength(`${JSON.stringify(line)}\n`) <= 4000);
    const hello = ofType(result.events, 'hello').find((h) => h.thread === 0);
    assert.ok(hello && hello.argv.length < 42 && hello.argv.length > 0);
    assert.equal(ofType(result.events, 'block').filter((b) => b.thread === 0).length, 301);
    assert.equal(ofType(result.events, 'unblock').filter((b) => b.thread === 0).length, 301);
    const created = ofType(result.events, 'worker-created')[0];
    assert.ok(created.name.length < 10_000 && created.name.startsWith('www'));
    assert.ok(ofType(result.events, 'hello').some((h) => h.thread === created.threadId));
    assert.equal(ofType(result.events, 'dropped').length, 0);
  });

  it('gives the source-mapped site when the program runs through tsx', async () => {
    const result = await run(['--import', 'tsx', fixture('block-site.ts')]);
    assert.equal(result.stdout, 'timed-out\n');
    // (tsx's own loader blocks too, in its Atomics.wait calls: those are reported as well.)
    const block = ofType(result.events, 'block').find((b) => /block-site\.ts$/.test(b.site?.file ?? ''));
    assert.equal(block?.site?.line, 6);
    assert.equal(block?.site?.column, 32); // the `wait` of Atomics.wait, as V8 places a call
  });

  it('leaves out its own frames when the agent itself is source-mapped (--enable-source-maps)', async () => {
    const result = await run(['--enable-source-maps', fixture('atomics.js')], { stdin: 'go\n' });
    const block = ofType(result.events, 'block').find((b) => b.thread === 0);
    assert.deepEqual([block?.site?.file, block?.site?.line, block?.stack[0].file], [fixture('atomics.js'), 6, fixture('atomics.js')]);
    for (const frame of block?.stack ?? []) assert.doesNotMatch(frame.file, /src\/agent|dist\/agent/);
  });
});
