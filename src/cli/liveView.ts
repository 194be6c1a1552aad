import * as fs from 'node:fs';
import type { ProcessTree, TreeChange } from '../model/processTree';
import { changeLine, renderTree, type ResourceLines } from './treeText';

/** Where gridlock shows what happens while the program runs. */
export interface LiveView {
  /** The tree changed. */
  update(changes: TreeChange[]): void;
  /** A message of gridlock's own (a finding, a refused connection). */
  message(lines: string[]): void;
  /** The run is over: leave the terminal as it was. */
  close(): void;
}

const PREFIX = 'gridlock: ';

/**
 * Plain event lines, for CI logs and pipes: one line per change, prefixed so they stand apart from
 * the program's own output. Written with one write call per line so lines never tear.
 */
export class PlainEventLog implements LiveView {
  /** Last line printed per thread: a thread that blocks again at the same place is not logged again. */
  private readonly lastLine = new Map<string, string>();

  constructor(
    private readonly tree: ProcessTree,
    private readonly fd: number,
    private readonly cwd: string,
    private readonly verbose: boolean,
  ) {}

  update(changes: TreeChange[]): void {
    for (const change of changes) {
      if (!this.verbose && change.kind === 'thread-state') {
        // Samples flip threads between running and idle all the time, and short timed waits come
        // and go: by default log only waits with no end (Atomics.wait without timeout, sync calls).
        const t = this.tree.get(change.pid)?.threads.get(change.threadId ?? -1);
        const on = t?.block?.on;
        if (t?.status !== 'blocked' || (on?.kind === 'atomics.wait' && on.timeoutMs !== null)) continue;
      }
      const line = changeLine(this.tree, change, this.cwd);
      if (!line) continue;
      const key = `${change.pid}:${change.threadId ?? 'p'}`;
      if (change.threadId !== undefined && this.lastLine.get(key) === line) continue;
      this.lastLine.set(key, line);
      this.write([line]);
    }
  }

  message(lines: string[]): void {
    this.write(lines);
  }

  close(): void {}

  private write(lines: string[]): void {
    try {
      fs.writeSync(this.fd, lines.map((l) => PREFIX + l).join('\n') + '\n');
    } catch {
      // the log going away (closed pipe) must not stop the run
    }
  }
}

/**
 * The tree drawn in place at the bottom of the terminal. The program writes to the same terminal,
 * so the rows above the panel become the scrolling region (DECSTBM): the program's output scrolls
 * there, and each redraw is one write(2) — a terminal write is atomic against other writers — that
 * saves the cursor, draws the panel below the region and restores the cursor.
 */
export class TtyTreeView implements LiveView {
  private panelRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly tree: ProcessTree,
    private readonly fd: number,
    private readonly cwd: string,
    private readonly size: () => { rows: number; columns: number },
    private readonly resourcesOf?: ResourceLines,
  ) {}

  update(_changes: TreeChange[]): void {
    this.dirty = true;
    // Redraw at most ten times a second: a busy program must not flood the terminal.
    if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.dirty) this.draw();
      }, 100);
      this.timer.unref();
    }
  }

  message(lines: string[]): void {
    // Messages go into the scrolling region, above the panel, like program output.
    this.write(lines.map((l) => PREFIX + l).join('\r\n') + '\r\n');
  }

  /** Draws the panel now. */
  draw(): void {
    if (this.closed) return;
    this.dirty = false;
    const { rows, columns } = this.size();
    const tree = renderTree(this.tree, this.cwd, this.resourcesOf);
    const max = Math.max(3, Math.min(tree.length + 1, Math.floor(rows / 3)));
    const body = tree.length + 1 > max ? [...tree.slice(0, max - 2), `… ${tree.length - (max - 2)} more lines`] : tree;
    const lines = ['── gridlock ' + '─'.repeat(Math.max(0, columns - 12)), ...body].map((l) => clip(l, columns));
    let out = '';
    if (lines.length !== this.panelRows) {
      // Reserve the panel rows: scroll the program's output up, then shrink the scrolling region.
      out += '\n'.repeat(Math.max(0, lines.length - this.panelRows)) + `\x1b[${Math.max(0, lines.length - this.panelRows)}A`;
      out += `\x1b7\x1b[1;${rows - lines.length}r\x1b8`;
      this.panelRows = lines.length;
    }
    out += '\x1b7';
    lines.forEach((line, i) => {
      out += `\x1b[${rows - lines.length + 1 + i};1H\x1b[2K${line}`;
    });
    out += '\x1b8';
    this.write(out);
  }

  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.draw();
    this.closed = true;
    const { rows } = this.size();
    // Give the rows back: reset the scrolling region and leave the last tree in the scrollback.
    this.write(`\x1b7\x1b[r\x1b8\x1b[${rows};1H\r\n`);
  }

  private write(text: string): void {
    try {
      fs.writeSync(this.fd, text);
    } catch {
      // a closed terminal must not stop the run
    }
  }
}

function clip(line: string, columns: number): string {
  return line.length <= columns ? line : line.slice(0, Math.max(1, columns - 1)) + '…';
}
