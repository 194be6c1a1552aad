/**
 * Ending everything a test started. A command spawned with `detached: true` leads its own process
 * group (on Linux it gets its own session too; its stdin, stdout and stderr stay piped to the
 * test), so killing the group also ends what it started: a program left behind would otherwise
 * keep the pipes open, and the test waiting for them, after gridlock itself is killed.
 */
import type { ChildProcess } from 'node:child_process';

/**
 * SIGKILLs the process group `child` leads (it was spawned with `detached: true`). A group already
 * gone (ESRCH) is fine; any other failure falls back to killing the child alone.
 */
export function killProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined) return; // it never started
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') child.kill('SIGKILL');
  }
}
