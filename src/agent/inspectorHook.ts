/**
 * The main thread's inspector: opened on loopback with a random port so the host can take stacks,
 * and given back to the program if it opens the inspector itself (its call closes ours and opens
 * theirs; the new URL goes out in a fresh hello).
 */
import type { BuiltinMap } from './builtins';
import { replaceMethod } from './atomics';
import { makeRoomForWrapperFrame, restoreStackLimit } from './stacks';

/**
 * True when opening the inspector prints nothing: the host adds `--inspect-publish-uid=http`.
 * Without it Node would print "Debugger listening on …" to the program's stderr.
 */
function openingIsSilent(): boolean {
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  const match = /--inspect-publish-uid[= ]([\w,]+)/.exec(flags);
  return match !== null && !match[1].split(',').includes('stderr');
}

/**
 * Opens the inspector when it is not open yet; returns its URL, or undefined with a note.
 * `onReopened` receives the URL after the program opened the inspector itself.
 */
export function openInspector(inspector: BuiltinMap['inspector'], notes: string[], onReopened: (url: string | undefined) => void): string | undefined {
  const originalOpen = inspector.open;
  const originalClose = inspector.close;
  let ours = false;
  try {
    const current = inspector.url();
    if (current !== undefined) return current;
    if (!openingIsSilent()) {
      notes.push('inspector not opened: --inspect-publish-uid=http is missing, and opening it would print to stderr');
      return undefined;
    }
    originalOpen.call(inspector, 0, '127.0.0.1', false);
    ours = true;
  } catch (error) {
    notes.push(`inspector could not be opened: ${(error as Error)?.message ?? 'unknown error'}`);
    return undefined;
  }

  const wrappers = {
    open(this: unknown, ...args: unknown[]): unknown {
      if (ours) {
        try {
          originalClose.call(inspector);
        } catch {
          // already closed
        }
        ours = false;
      }
      const saved = makeRoomForWrapperFrame();
      try {
        return (originalOpen as (...a: unknown[]) => unknown).apply(this, args);
      } finally {
        restoreStackLimit(saved);
        try {
          if (inspector.url() === undefined) {
            // Their open failed (port taken): keep the host's way in.
            originalOpen.call(inspector, 0, '127.0.0.1', false);
            ours = true;
          }
          onReopened(inspector.url());
        } catch {
          // never into the program
        }
      }
    },
  };
  try {
    replaceMethod(inspector as unknown as Record<string, unknown>, 'open', wrappers.open, originalOpen.length);
  } catch {
    notes.push('inspector.open could not be wrapped: a program that opens the inspector itself will fail');
  }
  return inspector.url();
}
