// The layer table of DESIGN.md is enforced by ESLint: this proves the rule catches violations
// (a rule that never fires would let the layers rot unnoticed).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '..', '..');

async function lintAs(file: string, text: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(text, { filePath: path.join(root, file) });
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${file} could not be linted`);
  return result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

test('pure layers may not import Node built-ins or higher layers', async () => {
  const model = await lintAs('src/model/processTree.ts', "import * as fs from 'node:fs';\nimport { Hub } from '../inspector/hub';\nexport const x = [fs, Hub];\n");
  assert.equal(model.length, 2, model.join('\n'));
  assert.match(model[0], /src\/model is pure: no Node built-ins/);
  assert.match(model[1], /src\/model may not import src\/inspector/);
});

test('protocol imports nothing; the agent takes only types from protocol; only extension imports vscode', async () => {
  assert.equal((await lintAs('src/protocol/report.ts', "import { Emitter } from '../common/emitter';\nexport const y = Emitter;\n")).length, 1);
  assert.equal((await lintAs('src/agent/main.ts', "import { HUB_ENV } from '../protocol/hubWire';\nexport const y = HUB_ENV;\n")).length, 1);
  assert.equal((await lintAs('src/agent/main.ts', "import type { HubLine } from '../protocol/hubWire';\nexport type Y = HubLine;\n")).length, 0);
  // Files in nested folders are held to the same rule.
  assert.equal((await lintAs('src/agent/locks/published.ts', "import { HUB_ENV } from '../../protocol/hubWire';\nexport const y = HUB_ENV;\n")).length, 1);
  assert.equal((await lintAs('src/agent/locks/published.ts', "import { ProcessTree } from '../../model/processTree';\nexport const t = ProcessTree;\n")).length, 1);
  assert.equal((await lintAs('src/cli/main.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n")).length, 1);
  assert.equal((await lintAs('src/cli/main.ts', "import { Hub } from '../inspector/hub';\nexport const h = Hub;\n")).length, 0);
});
