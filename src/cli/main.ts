import { parseArgs, USAGE, UsageError } from './args';
import { runCommand } from './runCommand';
import { attachCommand } from './attachCommand';
import { dumpCommand } from './dumpCommand';
import { EXIT_USAGE } from '../protocol/report';

declare const GRIDLOCK_VERSION: string | undefined;

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`gridlock: ${error.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    throw error;
  }
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(USAGE + '\n');
      return;
    case 'version':
      process.stdout.write(`${typeof GRIDLOCK_VERSION === 'string' ? GRIDLOCK_VERSION : 'dev'}\n`);
      return;
    case 'run': {
      const result = await runCommand(parsed.options);
      if (result.reraise) {
        process.kill(process.pid, result.reraise);
        return;
      }
      process.exitCode = result.status;
      return;
    }
    case 'attach':
      process.exitCode = await attachCommand(parsed);
      return;
    case 'dump':
      process.exitCode = await dumpCommand(parsed);
      return;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // A bug of ours: say so in one line, with the stack only when asked for.
  process.stderr.write(`gridlock: internal error: ${(error as Error)?.message ?? String(error)}${process.env.GRIDLOCK_DEBUG ? `\n${(error as Error)?.stack}` : ' (set GRIDLOCK_DEBUG=1 for details)'}\n`);
  process.exitCode = 70;
});
