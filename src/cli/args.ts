/** Options of `gridlock run`. */
export interface RunOptions {
  command: string[];
  jsonFile?: string;
  keepRunning: boolean;
  live: 'auto' | 'tty' | 'plain' | 'off';
  verbose: boolean;
  stallMs: number;
  /** A lock held longer than this is a warning. */
  longHoldMs: number;
}

/** A parsed command line. */
export type ParsedArgs =
  | { kind: 'run'; options: RunOptions }
  | { kind: 'attach'; target: string; jsonFile?: string; live: RunOptions['live']; verbose: boolean; stallMs: number; longHoldMs: number }
  | { kind: 'dump'; target: string; json: boolean }
  | { kind: 'help'; topic?: string }
  | { kind: 'version' };

/** A usage error: the message names the problem and the fix. */
export class UsageError extends Error {}

export const USAGE = `Usage:
  gridlock run [options] [--] <command> [args…]   run a command with tracking (node app.js, npm test, …)
  gridlock attach [options] <port|host:port|ws-url>  track a program started with --inspect
  gridlock dump [--json] <pid|port|host:port|ws-url> print a thread dump of a running program
  gridlock help | --help, gridlock --version

Options (run, attach):
  --json FILE       write the report (processes, threads, findings) as JSON to FILE
  --keep-running    run: after a hang is found and dumped, leave the program running
                    (attach never stops the program)
  --plain           plain event lines even on a terminal
  --no-live         no live tree: only findings and the summary
  --verbose         log every thread state change (plain mode)
  --stall-ms N      how long everything must be asleep before a stall is declared (default 400)
  --long-hold-ms N  warn about a lock held longer than this (default 10000)

Exit status of run: the program's own, or 86 when a deadlock or stall was found,
127 when the command is not found, 126 when it cannot be run, 2 for usage errors.`;

/** Parses argv (without node and the script). Throws {@link UsageError}. */
export function parseArgs(argv: string[]): ParsedArgs {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') return { kind: 'help', topic: rest[0] };
  if (verb === '--version' || verb === '-v' || verb === 'version') return { kind: 'version' };
  if (verb === 'run') return { kind: 'run', options: parseRun(rest) };
  if (verb === 'attach') {
    const options = parseRun(rest, true);
    const target = options.command[0];
    if (!target || options.command.length > 1) throw new UsageError('attach takes one target: a port (9229), host:port, or a ws:// URL. Example: gridlock attach 9229');
    if (options.keepRunning) throw new UsageError('--keep-running is an option of run: attach never stops the program');
    return { kind: 'attach', target, jsonFile: options.jsonFile, live: options.live, verbose: options.verbose, stallMs: options.stallMs, longHoldMs: options.longHoldMs };
  }
  if (verb === 'dump') {
    const json = rest.includes('--json');
    const targets = rest.filter((a) => a !== '--json');
    const unknown = targets.find((a) => a.startsWith('-') && a !== '--');
    if (unknown) throw new UsageError(`unknown option '${unknown}' of dump (it takes --json only)`);
    if (targets[0] === '--') targets.shift();
    if (targets.length !== 1) throw new UsageError('dump takes one target: a pid, a port, host:port, or a ws:// URL. Example: gridlock dump 12345');
    return { kind: 'dump', target: targets[0], json };
  }
  throw new UsageError(`unknown command '${verb}'. Use run, attach or dump (gridlock --help lists them).`);
}

function parseRun(args: string[], attach = false): RunOptions {
  const options: RunOptions = { command: [], keepRunning: false, live: 'auto', verbose: false, stallMs: 400, longHoldMs: 10_000 };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    switch (a) {
      case '--json': {
        const file = args[++i];
        if (!file) throw new UsageError('--json needs a file name: --json report.json');
        options.jsonFile = file;
        break;
      }
      case '--keep-running':
        options.keepRunning = true;
        break;
      case '--plain':
        options.live = 'plain';
        break;
      case '--no-live':
        options.live = 'off';
        break;
      case '--verbose':
        options.verbose = true;
        break;
      case '--stall-ms': {
        const n = Number(args[++i]);
        if (!Number.isInteger(n) || n < 100 || n > 600000) throw new UsageError('--stall-ms needs a whole number of milliseconds from 100 to 600000');
        options.stallMs = n;
        break;
      }
      case '--long-hold-ms': {
        const n = Number(args[++i]);
        if (!Number.isInteger(n) || n < 100 || n > 86_400_000) throw new UsageError('--long-hold-ms needs a whole number of milliseconds from 100 to 86400000 (a day)');
        options.longHoldMs = n;
        break;
      }
      default:
        throw new UsageError(`unknown option '${a}'${attach ? '' : ". To pass options to your program, put them after '--': gridlock run -- node app.js " + a}`);
    }
  }
  options.command = args.slice(i);
  if (!attach && options.command.length === 0) throw new UsageError('run needs a command: gridlock run -- node app.js');
  return options;
}
