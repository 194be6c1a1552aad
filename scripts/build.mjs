// One esbuild script, one entry per runtime. Output goes to dist/ and is never committed.
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');

/** @type {Array<import('esbuild').BuildOptions & { entryPoints: string[] }>} */
const entries = [
  // Runs inside the user's program: tiny, no dependencies, CommonJS so `--require` loads it.
  { entryPoints: ['src/agent/main.ts'], outfile: 'dist/agent.js', platform: 'node', format: 'cjs', target: 'node18' },
  // What NODE_OPTIONS preloads: loads agent.js with a V8 code cache (the agent's start-up per thread).
  { entryPoints: ['src/agent/loader.ts'], outfile: 'dist/agentLoader.js', platform: 'node', format: 'cjs', target: 'node18' },
  // Node 20's off-thread module hooks, registered by the agent where an ES-only lock library may be imported.
  { entryPoints: ['src/agent/esmHooks.ts'], outfile: 'dist/agentEsmHooks.mjs', platform: 'node', format: 'esm', target: 'node18' },
  // The headless front end.
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20' },
  // The VS Code extension host entry (vscode stays external: the host provides it).
  { entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  // The language server.
  { entryPoints: ['src/server/main.ts'], outfile: 'dist/server.js', platform: 'node', format: 'cjs', target: 'node20' },
  // The webview (browser) bundle for the graph view.
  { entryPoints: ['src/webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022' },
];

const started = Date.now();
for (const entry of entries) {
  if (!existsSync(join(root, entry.entryPoints[0]))) continue; // runtimes arrive issue by issue
  await build({
    absWorkingDir: root,
    bundle: true,
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
    legalComments: 'none',
    ...entry,
  });
}
// The agent bundle is ASCII only: every thread's loader reads it as latin1 (a copy; UTF-8 decoding
// of the 160 KB bundle was a quarter of the agent's start-up instructions in a worker), and attach
// sends it in an evaluation, which a worker ignores when it holds a non-ASCII character. esbuild
// escapes strings but keeps comments as written; \uXXXX means the same in a string, a regular
// expression or an identifier, and is harmless in a comment.
const agentBundle = join(root, 'dist', 'agent.js');
const agentSource = readFileSync(agentBundle, 'utf8');
const asciiSource = agentSource.replace(/[^\t\n\r\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (asciiSource !== agentSource) writeFileSync(agentBundle, asciiSource);
console.log(`built in ${Date.now() - started} ms`);
