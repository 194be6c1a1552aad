/** Something that holds a resource until disposed. */
export interface Disposable {
  dispose(): void;
}

/** Disposes many things once, in reverse order of adding, and never throws. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const item of this.items.reverse()) {
      try {
        item.dispose();
      } catch {
        // one failing disposal must not keep the others from running
      }
    }
    this.items.length = 0;
  }
}

/** Wraps a function as a {@link Disposable}. */
export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      fn();
    },
  };
}
