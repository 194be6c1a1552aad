// The snippet expander of the tests: VS Code's snippet grammar, each default taken.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { expandSnippet } from '../helpers/snippetExpand';

void test('tab stops and placeholders take their defaults; bare tab stops are empty', () => {
  assert.equal(expandSnippet('a ${1:one} b ${2} c $3 d'), 'a one b  c  d');
  assert.equal(expandSnippet('const ${1:pool} = 1; use($1); use(${1});'), 'const pool = 1; use(pool); use(pool);');
  assert.equal(expandSnippet('use($1); const ${1:pool} = 1;'), 'use(pool); const pool = 1;', 'the first placeholder with a default defines it, wherever it is');
  assert.equal(expandSnippet('${1:first} ${1:second}'), 'first first', 'the first default wins for every placeholder of the index');
  assert.equal(expandSnippet('$12 ${12:x}'), 'x x', 'multi-digit indexes');
});

void test('nested placeholders', () => {
  assert.equal(expandSnippet('${1:${2:x}}'), 'x');
  assert.equal(expandSnippet('${1:a ${2:b} c} [$2]'), 'a b c [b]');
  assert.equal(expandSnippet('${1:${2:${3:deep}}} $3'), 'deep deep');
});

void test('choices take their first option; `\\,` and `\\|` escape inside a choice', () => {
  assert.equal(expandSnippet('${1|one,two,three|} $1'), 'one one');
  assert.equal(expandSnippet('${1|a\\,b,c|}'), 'a,b');
  assert.equal(expandSnippet('${1|x\\|y,z|}'), 'x|y');
});

void test('the final tab stop is empty', () => {
  assert.equal(expandSnippet('a$0b'), 'ab');
  assert.equal(expandSnippet('a${0}b'), 'ab');
  assert.equal(expandSnippet('a${0:end}b'), 'aendb');
});

void test('variables: known values, defaults, unknown names inserted as text', () => {
  const variables = { TM_FILENAME: 'app.ts', TM_SELECTED_TEXT: '' };
  assert.equal(expandSnippet('// $TM_FILENAME', { variables }), '// app.ts');
  assert.equal(expandSnippet('// ${TM_FILENAME}', { variables }), '// app.ts');
  assert.equal(expandSnippet('${TM_SELECTED_TEXT:nothing}', { variables }), 'nothing', 'an empty variable takes its default');
  assert.equal(expandSnippet('${TM_SELECTED_TEXT}', { variables }), '', 'an empty known variable with no default');
  assert.equal(expandSnippet('${NOT_A_VARIABLE}'), 'NOT_A_VARIABLE', 'VS Code inserts an unknown variable by name');
  assert.equal(expandSnippet('${NOT_A_VARIABLE:fallback}'), 'fallback');
  assert.equal(expandSnippet('$NOT_A_VARIABLE'), 'NOT_A_VARIABLE');
});

void test('transforms on variables and tab stops', () => {
  assert.equal(expandSnippet('${TM_FILENAME/(.*)\\..+$/$1/}', { variables: { TM_FILENAME: 'worker.test.ts' } }), 'worker.test');
  assert.equal(expandSnippet('${1:name} ${1/(.*)/${1:/upcase}/}'), 'name NAME');
  assert.equal(expandSnippet('${1:my_pool} ${1/(.*)/${1:/pascalcase}/}'), 'my_pool MyPool');
  assert.equal(expandSnippet('${1:x} ${1/(y)?.*/${1:?yes:no}/}'), 'x no');
  assert.equal(expandSnippet('${1:ab} ${1/a/A/g}'), 'ab Ab');
});

void test('escapes: \\$ \\} \\\\ are literal, other backslashes stay', () => {
  assert.equal(expandSnippet('\\$1 \\${x} \\} \\\\'), '$1 ${x} } \\');
  assert.equal(expandSnippet('${1:a\\}b} $1'), 'a}b a}b');
  assert.equal(expandSnippet("console.log('\\n')"), "console.log('\\n')");
  assert.equal(expandSnippet('`${name}: \\${value}`'), '`name: ${value}`', 'an unescaped ${name} is a variable (unknown: its name)');
});

void test('a `$` that starts nothing valid is literal text', () => {
  assert.equal(expandSnippet('cost: $ 5, ${ oops, ${1:ok'), 'cost: $ 5, ${ oops, ${1:ok');
  assert.equal(expandSnippet('end$'), 'end$');
  assert.equal(expandSnippet('${1|unclosed,choice}'), '${1|unclosed,choice}');
});

void test('an array body is joined with newlines', () => {
  assert.equal(expandSnippet(['const ${1:x} = 1;', 'console.log($1);$0']), 'const x = 1;\nconsole.log(x);');
});
