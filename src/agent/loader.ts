/**
 * What NODE_OPTIONS preloads in every thread: loads the agent bundle (agent.js, next to this file)
 * with a V8 code cache kept in the hub's private directory, so each thread after the first skips
 * most of compiling the bundle (measured: 5 ms of agent start-up per worker thread, 3 of them
 * compiling). The first thread of each Node version writes the cache (atomically: a temporary file
 * renamed), named after the bundle file's inode, size and modification time; V8 checks the cache
 * against its own version and the source's length and rejects a mismatch, and then the bundle is
 * simply compiled. Anything unexpected falls back to a plain `require`; nothing
 * here throws into the program.
 */
import type * as Fs from 'node:fs';
import type * as Vm from 'node:vm';
import type * as Path from 'node:path';

const HUB_ENV = 'GRIDLOCK_HUB';
/** The wrapper Node gives a CommonJS module, so the bundle sees the same free variables. */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n})';

(function loadGridlockAgent(): void {
  let path: typeof Path | undefined;
  let agentFile = '';
  try {
    const builtin = (id: string): unknown => ((process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule ?? require)(id);
    path = builtin('node:path') as typeof Path;
    agentFile = path.join(__dirname, 'agent.js');
    const hub = process.env[HUB_ENV];
    if (typeof hub !== 'string' || hub === '') throw new Error('no hub: nothing to cache into');
    const fs = builtin('node:fs') as typeof Fs;
    const vm = builtin('node:vm') as typeof Vm;
    // The build writes the bundle in ASCII only: latin1 is then the same text, read as a copy
    // where UTF-8 would be decoded (a quarter of the instructions the agent adds to a worker).
    let source: string;
    let stamp: string;
    const fd = fs.openSync(agentFile, 'r');
    try {
      const stat = fs.fstatSync(fd);
      stamp = `${stat.ino}-${stat.size}-${Math.round(stat.mtimeMs)}`;
      source = fs.readFileSync(fd, 'latin1');
    } finally {
      fs.closeSync(fd);
    }
    // The cache is named after the bundle file it was made from: V8 checks a cache against the
    // source's length only, and accepts a stale one for a bundle of the same length (gridlock
    // reinstalled while a long-running program starts workers), which then crashes the thread
    // ("Check failed: start_position == start_position_from_data") or runs the old code.
    const cacheFile = path.join(path.dirname(hub), `agent-${process.version}-${process.arch}-${stamp}.cache`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
    const script = new vm.Script(WRAP_HEAD + source + WRAP_TAIL, { filename: agentFile, ...(cachedData !== undefined ? { cachedData } : {}) });
    const run = script.runInThisContext() as (exports: unknown, req: unknown, mod: unknown, filename: string, dirname: string) => void;
    run(module.exports, require, module, agentFile, __dirname);
    if (cachedData === undefined || script.cachedDataRejected === true) {
      // After the run: the cache then holds the functions start-up compiled too.
      const temporary = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      try {
        fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temporary, cacheFile);
      } catch {
        try {
          fs.rmSync(temporary, { force: true });
        } catch {
          // the directory went away with the hub
        }
      }
    }
  } catch {
    try {
      // Loads nothing twice: the agent's global guard makes a second start a no-op.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a preload script is CommonJS; this is its plain load
      if (agentFile !== '') require(agentFile);
    } catch {
      // The program runs as if the agent were not there.
    }
  }
})();
