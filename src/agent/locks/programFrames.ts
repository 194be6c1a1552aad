/**
 * Which frames of a stack are the program's, for the sites of lock events: not the agent's (stacks.ts
 * leaves those out), not a tracked library's (its directory, or its lines in a bundle), not a
 * compiler helper's that the libraries call through. Stacks are remembered by their frames'
 * positions ({@link stackKey}): a busy lock waited for at one line in its first acquisitions gives
 * the same stack hundreds of times, and formatting one costs ~40 µs.
 */
import type { SourceSite, StackFrames } from '../../protocol/agentEvents';
import { captureStack, stackKey } from '../stacks';

/** Compiler helpers the libraries call through: never the program's site. */
const HELPERS = /\/node_modules\/(?:tslib|@babel\/runtime|regenerator-runtime|@swc\/helpers)\//;
/** Bundles whose library lines are remembered (bundled.ts), at the most. */
const MAX_BUNDLES = 64;
/** Frames of a stack taken for an event. */
const STACK_FRAMES = 24;
/** Stacks remembered by their frames' positions, at the most; then forgotten at once. */
const MAX_STACKS = 256;

export class ProgramFrames {
  /** Directories of tracked libraries (and their file URL forms). */
  private readonly libraryDirs: string[] = [];
  /** Lines of bundles that hold tracked libraries (bundled.ts). */
  private readonly libraryLines = new Map<string, Array<{ from: number; to: number }>>();
  /** Stacks by {@link stackKey}: emptied when the frames that count as a library's change. */
  private readonly stacks = new Map<string, StackFrames>();

  /** Whether `file` is the program's: not a tracked library's or a compiler helper's (bundles aside). */
  isProgramFile(file: string): boolean {
    return !HELPERS.test(file) && !this.libraryDirs.some((dir) => file.startsWith(dir));
  }

  /** The current stack without the agent's and the libraries' frames. Frozen: callers share it. */
  stack(): StackFrames {
    const key = stackKey(STACK_FRAMES);
    if (key !== undefined) {
      const known = this.stacks.get(key);
      if (known !== undefined) return known;
    }
    const stack = this.withoutLibraries(captureStack(STACK_FRAMES));
    if (key !== undefined) {
      if (this.stacks.size >= MAX_STACKS) this.stacks.clear();
      for (const frame of stack) Object.freeze(frame);
      this.stacks.set(key, Object.freeze(stack) as StackFrames);
    }
    return stack;
  }

  /** `stack` without the libraries' frames. */
  withoutLibraries(stack: StackFrames): StackFrames {
    return stack.filter((frame) => this.isProgramFile(frame.file) && !this.inBundledLibrary(frame));
  }

  /** Remembers the directory of a tracked library (and its file URL form). */
  addLibraryDir(dir: string): void {
    if (this.libraryDirs.includes(dir)) return;
    this.libraryDirs.push(dir, `file://${dir}`);
    this.stacks.clear();
  }

  /** Remembers the lines of a bundle that hold tracked libraries and their helpers. */
  addLibraryLines(file: string, ranges: ReadonlyArray<{ from: number; to: number }>): void {
    if (this.libraryLines.size >= MAX_BUNDLES) this.libraryLines.clear();
    this.libraryLines.set(file, ranges.map(({ from, to }) => ({ from, to })));
    this.stacks.clear();
  }

  private inBundledLibrary(frame: SourceSite): boolean {
    if (this.libraryLines.size === 0) return false;
    const ranges = this.libraryLines.get(frame.file);
    return ranges !== undefined && ranges.some((r) => frame.line >= r.from && frame.line <= r.to);
  }
}
