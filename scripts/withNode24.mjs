// Runs a command with GRIDLOCK_TEST_NODE pointing at Node 24, so the integration tests run the
// user's programs on Node 24 while the host stays on the machine's Node.
import { spawnSync } from 'node:child_process';
import { ensureNode24 } from './node24.mjs';

const node24 = ensureNode24();
const [command, ...args] = process.argv.slice(2);
const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, GRIDLOCK_TEST_NODE: node24 } });
process.exit(result.status ?? 1);
