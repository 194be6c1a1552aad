// Bundled copies (esbuild): the rewrite keeps every line where it was, finds the lines of the
// watched packages' files, and the wrapped helper hands a watched file's exports over once.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { packageOfKey, rewriteBundle, wrapCommonJsHelper } from '../../src/agent/locks/bundled';

const BUNDLE = [
  '"use strict";',
  'var __getOwnPropNames = Object.getOwnPropertyNames;',
  'var __commonJS = (cb, mod) => function __require() {',
  '  return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;',
  '};',
  '',
  '// node_modules/tslib/tslib.es6.mjs',
  'var __awaiter = () => {};',
  '',
  '// node_modules/async-mutex/lib/index.js',
  'var require_lib = __commonJS({',
  '  "node_modules/async-mutex/lib/index.js"(exports2) {',
  '    exports2.Mutex = class Mutex {};',
  '  }',
  '});',
  '',
  '// node_modules/left-pad/index.js',
  'var require_left_pad = __commonJS({ "node_modules/left-pad/index.js"(e, m) { m.exports = () => 1; } });',
  '',
  '// src/app.js',
  'var { Mutex } = require_lib();',
  '',
].join('\n');

test('an esbuild bundle with a watched package: one statement on the helper\'s last line, every line kept, the library\'s lines found', () => {
  const rewritten = rewriteBundle(BUNDLE, new Set(['async-mutex']));
  assert.ok(rewritten);
  const before = BUNDLE.split('\n');
  const after = rewritten.source.split('\n');
  assert.equal(after.length, before.length);
  const changed = after.map((line, i) => (line === before[i] ? -1 : i + 1)).filter((n) => n > 0);
  assert.deepEqual(changed, [5]);
  assert.match(after[4], /^\}; __commonJS = globalThis\[Symbol\.for\('gridlock\.bundled'\)\]\?\.\(__commonJS\) \?\? __commonJS;$/);
  assert.deepEqual(rewritten.ranges, [
    { name: 'tslib', from: 7, to: 9 },
    { name: 'async-mutex', from: 10, to: 16 },
  ]);
});

test('files that are not esbuild bundles of a watched package are left as they are', () => {
  assert.equal(rewriteBundle('module.exports = 1;\n', new Set(['async-mutex'])), undefined);
  assert.equal(rewriteBundle(BUNDLE, new Set(['p-queue'])), undefined);
  assert.deepEqual(packageOfKey('node_modules/@scope/pkg/lib/a.js'), { name: '@scope/pkg', file: 'lib/a.js' });
  assert.equal(packageOfKey('src/app.js'), undefined);
});

test('the wrapped helper hands a watched file\'s exports over once, after its factory ran, and may replace them', () => {
  const helper = (cb: Record<string, unknown>) => {
    let mod: { exports: unknown } | undefined;
    return () => {
      if (mod === undefined) {
        mod = { exports: {} };
        (cb[Object.getOwnPropertyNames(cb)[0]] as (e: unknown, m: unknown) => void)(mod.exports, mod);
      }
      return mod.exports;
    };
  };
  const handed: Array<[string, string, unknown]> = [];
  const wrapped = wrapCommonJsHelper(helper, new Set(['async-mutex', 'fastq']), (name, file, exports) => {
    handed.push([name, file, exports]);
    return name === 'fastq' ? 'replaced' : undefined;
  });
  const requireLib = wrapped({ 'node_modules/async-mutex/lib/index.js': (e: Record<string, unknown>) => (e.Mutex = 'M') });
  assert.deepEqual(handed, [], 'nothing before the factory runs');
  assert.deepEqual(requireLib(), { Mutex: 'M' });
  assert.deepEqual(requireLib(), { Mutex: 'M' });
  assert.deepEqual(handed, [['async-mutex', 'lib/index.js', { Mutex: 'M' }]]);
  assert.equal(wrapped({ 'node_modules/fastq/queue.js': () => undefined })(), 'replaced');
  const other = wrapped({ 'node_modules/left-pad/index.js': () => undefined });
  assert.deepEqual(other(), {});
  assert.equal(handed.length, 2);
});
