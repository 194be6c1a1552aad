import type { Disposable } from './disposable';

/** A typed event with listeners; no vscode dependency, so pure layers can use it. */
export class Emitter<T> {
  private listeners = new Set<(value: T) => void>();

  /** Subscribes; dispose the result to unsubscribe. */
  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }

  dispose(): void {
    this.listeners.clear();
  }
}
