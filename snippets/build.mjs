// Builds snippets/javascript.code-snippets and snippets/typescript.code-snippets from the sources
// in snippets/src: manifest.json (name, prefixes, description of each snippet) and one body file
// per language (src/js/<id>.js, src/ts/<id>.ts).
//
//   node snippets/build.mjs           write both .code-snippets files
//   node snippets/build.mjs --check   exit 1 when they are not what the sources give
//
// A body file is the program as VS Code inserts it, written in snippet syntax for tab stops only:
// `${1:name}`, `${1}`, `$1`, `${1|a,b|}` and `$0` are tab stops; every other `$` (template
// literals, `$` in identifiers) and every backslash is escaped here, so the sources stay readable.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const languages = [
  { language: 'javascript', ext: 'js', out: 'javascript.code-snippets' },
  { language: 'typescript', ext: 'ts', out: 'typescript.code-snippets' },
];

/** Escapes a body written with bare tab stops into VS Code snippet syntax. */
export function escapeBody(source) {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      out += '\\\\';
      i += 1;
    } else if (c === '$' && /[0-9]/.test(source[i + 1] ?? '')) {
      let j = i + 1;
      while (/[0-9]/.test(source[j] ?? '')) j += 1;
      out += source.slice(i, j);
      i = j;
    } else if (c === '$' && source[i + 1] === '{' && /[0-9]/.test(source[i + 2] ?? '')) {
      const end = closingBrace(source, i + 1);
      // A tab stop's default is copied as written: keep `$`, `}` and `\` out of defaults.
      out += source.slice(i, end + 1);
      i = end + 1;
    } else if (c === '$') {
      out += '\\$';
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

function closingBrace(source, open) {
  let depth = 0;
  for (let i = open; i < source.length; i += 1) {
    if (source[i] === '{') depth += 1;
    else if (source[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unclosed tab stop at offset ${open}`);
}

/** The text of one .code-snippets file. */
export function buildLanguage(ext) {
  const manifest = JSON.parse(readFileSync(join(root, 'src', 'manifest.json'), 'utf8'));
  const snippets = {};
  for (const entry of manifest) {
    const source = readFileSync(join(root, 'src', ext, `${entry.id}.${ext}`), 'utf8').replace(/\r\n/g, '\n').replace(/\n+$/, '');
    if (snippets[entry.name]) throw new Error(`duplicate snippet name ${entry.name}`);
    snippets[entry.name] = { prefix: entry.prefix, body: escapeBody(source).split('\n'), description: entry.description };
  }
  return `${JSON.stringify(snippets, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { ext, out } of languages) {
    const text = buildLanguage(ext);
    const path = join(root, out);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing: written below, or stale under --check
    }
    if (current === text) continue;
    if (check) {
      console.error(`${out} is out of date: run node snippets/build.mjs`);
      stale += 1;
    } else {
      writeFileSync(path, text);
      console.log(`wrote snippets/${out}`);
    }
  }
  process.exit(stale === 0 ? 0 : 1);
}
