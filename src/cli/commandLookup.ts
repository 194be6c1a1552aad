import * as fs from 'node:fs';
import * as path from 'node:path';

/** The outcome of looking a command up the way a shell would. */
export type Lookup = { ok: true; file: string } | { ok: false; status: 126 | 127; message: string };

/** Finds `command` on PATH (or as a path), as execvp would, so errors are clear before anything starts. */
export function lookupCommand(command: string, env: NodeJS.ProcessEnv, cwd: string): Lookup {
  const candidates = command.includes('/') ? [path.resolve(cwd, command)] : (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  let found: string | undefined;
  for (const file of candidates) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      continue;
    }
    if (stat.isDirectory()) {
      if (command.includes('/')) return { ok: false, status: 126, message: `${command} is a directory, not a program` };
      continue;
    }
    found ??= file;
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return { ok: true, file };
    } catch {
      // keep looking: a later PATH entry may be executable, as with execvp
    }
  }
  if (found) return { ok: false, status: 126, message: `${command} is not executable (${found}). Run it with its interpreter (gridlock run -- node ${command}) or chmod +x it.` };
  return {
    ok: false,
    status: 127,
    message: command.includes('/') ? `${command}: no such file` : `${command}: command not found on PATH. Check the spelling, or give its path.`,
  };
}
