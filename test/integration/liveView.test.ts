// The live tree on a real terminal (tmux): the program's output scrolls above, the tree panel stays
// at the bottom and updates in place, and the terminal is given back whole at the end.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { gridlockBin, repoRoot } from '../helpers/runGridlock';
import { testNode } from '../helpers/testNode';

const ROWS = 30;
const COLUMNS = 120;

function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

/** The visible screen, or with `history` the scrollback too. */
function screen(session: string, history = false): string[] {
  return tmux('capture-pane', '-p', ...(history ? ['-S', '-'] : []), '-t', session).split('\n').map((l) => l.replace(/\s+$/, ''));
}

/** Polls the screen until `ready` holds (the terminal has no event to wait on). */
async function waitForScreen(session: string, ready: (lines: string[]) => boolean, what: string, history = false, timeoutMs = 20000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = screen(session, history);
    if (ready(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


test('on a terminal the tree is a panel at the bottom, below the program output, updated in place', async (t) => {
  const session = `gridlock-live-${process.pid}`;
  const demo = path.join(repoRoot, 'examples', 'hang', 'main.js');
  tmux('new-session', '-d', '-s', session, '-x', String(COLUMNS), '-y', String(ROWS), `cd ${repoRoot} && ${process.execPath} ${gridlockBin} run -- ${testNode} ${demo}; echo "GRIDLOCK EXITED $?"; sleep 60`);
  t.after(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
  });
  const lines = await waitForScreen(session, (l) => l.some((x) => x.includes('GRIDLOCK EXITED')), 'gridlock to finish', true);
  assert.ok(lines.some((l) => l === 'GRIDLOCK EXITED 86'), 'gridlock exits with 86 after the stall');
  // The program's own output is on the screen, and gridlock's finding.
  assert.ok(lines.some((l) => l.startsWith('bank: two transfers started')));
  // The cycle is named from whichever teller closed it.
  assert.ok(lines.some((l) => /Deadlock: worker [12] '(alice→bob|bob→alice)'/.test(l)), 'the deadlock finding');
  // The last panel stays in the scrollback: header, then the tree with both tellers blocked at their line.
  // The last panel drawn (earlier ones scrolled into the history as the tree grew).
  const header = lines.findLastIndex((l) => l.startsWith('── gridlock ──'));
  assert.ok(header >= 0, `the panel header is on the screen:\n${lines.join('\n')}`);
  const panel = lines.slice(header + 1, header + 8).join('\n');
  assert.match(panel, /pid \d+ .*examples\/hang\/main\.js — stopped by gridlock \(SIGKILL\)/);
  assert.match(panel, /worker 1 'alice→bob' \(examples\/hang\/teller\.js\): ended with its process/);
  // (The forked audit process may not have started yet: the deadlock is found within half a second.)
});

test('the scrolling region is given back: output after gridlock scrolls the whole screen', async (t) => {
  const session = `gridlock-restore-${process.pid}`;
  const sleeper = path.join(repoRoot, 'test', 'fixtures', 'hangs', 'sleeper.js');
  tmux('new-session', '-d', '-s', session, '-x', String(COLUMNS), '-y', String(ROWS), `cd ${repoRoot} && ${process.execPath} ${gridlockBin} run -- ${testNode} ${sleeper}; seq 1 ${ROWS * 2}; sleep 60`);
  t.after(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
  });
  const lines = await waitForScreen(session, (l) => l.includes(String(ROWS * 2)), 'the numbers after gridlock');
  // With the region still set, the panel rows would stay put; given back, the numbers fill the screen.
  const last = lines.filter((l) => l.length > 0);
  assert.equal(last[last.length - 1], String(ROWS * 2));
  // Every row but the cursor's last one shows a number, where the panel stood too.
  assert.equal(lines.filter((l) => /^\d+$/.test(l)).length, ROWS - 1, `every row shows a number:\n${lines.join('\n')}`);
});
