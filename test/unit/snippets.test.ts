// The snippet files: strict JSON in VS Code's format, prefixes unique per language, every Python
// pattern of the issue answered in both languages, the two languages in step, the files built
// from snippets/src, and package.json contributing them.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandSnippet } from '../helpers/snippetExpand';
import { prefixesOf, pyPrefixOf, pythonPatterns, readSnippetFile, snippetLanguages, snippetRuns, snippetsDir, type SnippetFile } from '../helpers/snippetTable';

const files = new Map<string, SnippetFile>(snippetLanguages.map((l) => [l.language, readSnippetFile(l.file)]));
const fileOf = (language: string): SnippetFile => files.get(language) ?? assert.fail(`no ${language} snippets`);

/** The snippet of `language` that a prefix reaches, by name. */
function byPrefix(language: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, entry] of Object.entries(fileOf(language))) for (const prefix of prefixesOf(entry)) map.set(prefix, name);
  return map;
}

for (const { language, file } of snippetLanguages) {
  void test(`${file} is strict JSON: an object of snippets, no comments or trailing commas`, () => {
    const text = fs.readFileSync(path.join(snippetsDir, file), 'utf8');
    const parsed: unknown = JSON.parse(text); // throws on comments and trailing commas
    assert.equal(typeof parsed, 'object');
    assert.ok(parsed !== null && !Array.isArray(parsed));
    assert.ok(Object.keys(fileOf(language)).length >= 40, 'every pattern of the issue has a snippet');
  });

  void test(`${language}: every snippet has prefixes, a body and a description`, () => {
    for (const [name, entry] of Object.entries(fileOf(language))) {
      const prefixes = prefixesOf(entry);
      assert.ok(prefixes.length > 0, `${name}: a prefix`);
      for (const prefix of prefixes) assert.match(prefix, /^\S+$/, `${name}: prefix ${JSON.stringify(prefix)} is one word`);
      assert.ok(Array.isArray(entry.body) && entry.body.length > 5 && entry.body.every((line) => typeof line === 'string'), `${name}: a body (array of lines)`);
      assert.equal(typeof entry.description, 'string', `${name}: a description`);
      assert.ok(entry.description.length > 150, `${name}: the description explains how Node differs from Python`);
      assert.doesNotThrow(() => pyPrefixOf(entry), `${name}: exactly one py- prefix`);
    }
  });

  void test(`${language}: every prefix is unique`, () => {
    const seen = new Map<string, string>();
    for (const [name, entry] of Object.entries(fileOf(language))) {
      for (const prefix of prefixesOf(entry)) {
        assert.equal(seen.get(prefix), undefined, `prefix ${prefix} is used by ${seen.get(prefix)} and ${name}`);
        seen.set(prefix, name);
      }
    }
  });

  void test(`${language}: each body has one final tab stop and expands to a complete program`, () => {
    for (const [name, entry] of Object.entries(fileOf(language))) {
      const body = (entry.body as string[]).join('\n');
      assert.equal(body.match(/(?<!\\)\$(0\b|\{0[}:])/g)?.length, 1, `${name}: exactly one $0`);
      const program = expandSnippet(entry.body);
      assert.doesNotMatch(program, /\$[0-9]|\$\{[0-9]/, `${name}: no tab stop left after expansion`);
      if (language === 'javascript') {
        assert.doesNotMatch(program, /^(import|export) /m, `${name}: CommonJS (require), so \`node file.js\` runs it without a package.json`);
      } else {
        assert.match(program, /^import .* from 'node:[a-z_/]+';$|^export \{\};/m, `${name}: a module, so its names do not leak into the global scope`);
      }
      for (const [, specifier] of program.matchAll(/(?:from |require\()'([^']+)'/g)) assert.match(specifier, /^node:/, `${name}: only Node's standard library (${specifier})`);
    }
  });

  void test(`${language}: the run table covers every snippet`, () => {
    const ids = Object.values(fileOf(language)).map(pyPrefixOf).sort();
    assert.deepEqual(ids, Object.keys(snippetRuns).sort());
  });
}

void test('every Python pattern of the issue has its snippet, and the names Python developers type reach it, in both languages', () => {
  for (const { language } of snippetLanguages) {
    const prefixes = byPrefix(language);
    for (const { pattern, snippet, typed } of pythonPatterns) {
      const name = prefixes.get(snippet);
      assert.ok(name, `${language}: ${pattern} -> ${snippet}`);
      for (const prefix of typed) assert.equal(prefixes.get(prefix), name, `${language}: typing ${prefix} gives ${snippet} (${pattern})`);
    }
  }
  const covered = new Set(pythonPatterns.map((p) => p.snippet));
  for (const id of Object.keys(snippetRuns)) assert.ok(covered.has(id), `${id} answers a pattern of the table`);
});

void test('the JavaScript and TypeScript files cover the same snippets, with the same prefixes and descriptions', () => {
  const js = fileOf('javascript');
  const ts = fileOf('typescript');
  assert.deepEqual(Object.keys(js).sort(), Object.keys(ts).sort());
  for (const name of Object.keys(js)) {
    assert.deepEqual(prefixesOf(js[name]), prefixesOf(ts[name]), name);
    assert.equal(js[name].description, ts[name].description, name);
  }
});

void test('the .code-snippets files are what snippets/build.mjs makes of snippets/src', () => {
  const run = spawnSync(process.execPath, [path.join(snippetsDir, 'build.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});

void test('package.json contributes both snippet files to VS Code', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(snippetsDir, '..', 'package.json'), 'utf8')) as { contributes?: { snippets?: Array<{ language: string; path: string }> } };
  const contributed = pkg.contributes?.snippets ?? [];
  for (const { language, file } of snippetLanguages) {
    const entry = contributed.find((s) => s.language === language);
    assert.ok(entry, `a ${language} entry`);
    assert.equal(path.resolve(snippetsDir, '..', entry.path), path.join(snippetsDir, file));
  }
  for (const entry of contributed) assert.ok(fs.existsSync(path.resolve(snippetsDir, '..', entry.path)), entry.path);
});
