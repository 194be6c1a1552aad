// Lint: strict TypeScript rules plus the layer table of DESIGN.md ("a folder may import only what its row lists").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What each src/ folder may import (other src/ folders and packages). Node built-ins are listed per row. */
const layers = {
  protocol: { folders: [], packages: [], builtins: false },
  common: { folders: ['protocol'], packages: [], builtins: true },
  agent: { folders: ['protocol'], packages: [], builtins: true, typeOnly: ['protocol'] },
  model: { folders: ['protocol', 'common'], packages: [], builtins: false },
  analysis: { folders: ['protocol', 'common'], packages: ['typescript', 'acorn', 'acorn-walk'], builtins: false },
  inspector: { folders: ['protocol', 'common'], packages: ['ws', 'devtools-protocol'], builtins: true },
  server: { folders: ['analysis', 'protocol', 'common'], packages: ['vscode-languageserver', 'vscode-languageserver-textdocument'], builtins: true },
  cli: { folders: ['inspector', 'model', 'analysis', 'protocol', 'common'], packages: [], builtins: true },
  extension: { folders: ['inspector', 'model', 'protocol', 'common'], packages: ['vscode', 'vscode-languageclient'], builtins: true },
  webview: { folders: ['protocol'], packages: [], builtins: false },
};
const allFolders = Object.keys(layers);
const knownPackages = ['ws', 'devtools-protocol', 'vscode', 'vscode-languageclient', 'vscode-languageserver', 'vscode-languageserver-textdocument', 'typescript', 'acorn', 'acorn-walk'];

/** Relative paths to src/<folder> from a file of another layer, at any depth below its own folder (src/agent/locks/x.ts: ../../protocol). */
const towards = (folder) => ['../', '../../', '../../../'].flatMap((up) => [`${up}${folder}/*`, `${up}${folder}`]);

function layerConfig(name, rule) {
  const forbiddenFolders = allFolders.filter((f) => f !== name && !rule.folders.includes(f));
  const patterns = [
    ...forbiddenFolders.map((f) => ({ group: [...towards(f), `../../src/${f}/*`], message: `src/${name} may not import src/${f} (DESIGN.md layers).` })),
    ...knownPackages.filter((p) => !rule.packages.includes(p)).map((p) => ({ group: [p, `${p}/*`], message: `src/${name} may not import the package ${p} (DESIGN.md layers).` })),
  ];
  if (!rule.builtins) patterns.push({ regex: '^(node:.*|fs|path|child_process|worker_threads|net|os|inspector|events|crypto|http|url|util)$', message: `src/${name} is pure: no Node built-ins (DESIGN.md layers).` });
  for (const t of rule.typeOnly ?? []) {
    patterns.push({ group: towards(t), message: `src/${name} may only \`import type\` from src/${t}: it runs inside the user's program with no dependencies.`, allowTypeImports: true });
  }
  return {
    files: [`src/${name}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', 'examples/**', '.cache/**', 'bench/fixtures/**', 'snippets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'], package: 'node:test' }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  // The agent must never reach into another layer at run time: only `import type` from protocol.
  {
    files: ['src/agent/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }] },
  },
  ...Object.entries(layers).map(([name, rule]) => layerConfig(name, rule)),
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
