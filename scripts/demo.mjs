// `npm run demo`: runs the bundled example under gridlock. The example hangs on purpose, so
// gridlock's status 86 (hang found) is the expected outcome here, and the demo then succeeds.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const result = spawnSync(process.execPath, [join(root, 'bin', 'gridlock.js'), 'run', '--json', 'gridlock-demo-report.json', '--', process.execPath, join(root, 'examples', 'hang', 'main.js')], { stdio: 'inherit', cwd: root });
if (result.status === 86) {
  console.log('\ndemo: gridlock found the hang (exit status 86) and wrote gridlock-demo-report.json.');
  process.exit(0);
}
console.error(`\ndemo: expected gridlock to find the hang (status 86), got ${result.status ?? result.signal}`);
process.exit(1);
