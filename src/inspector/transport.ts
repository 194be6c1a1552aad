import type { Disposable } from '../common/disposable';

/** A subscription function in the style of `Emitter.event`: call it with a listener, dispose the result to stop. */
export type Event<T> = (listener: (value: T) => void) => Disposable;

/** Why a transport closed. */
export interface TransportCloseInfo {
  /** One line for people: "closed by us", "the target closed the connection (1006)", … */
  reason: string;
  /** The WebSocket close code, when there was one. */
  code?: number;
  /** True when this side asked for the close. */
  byUs: boolean;
}

/**
 * A message pipe to one CDP endpoint (a Node inspector WebSocket, js-debug's CDP proxy, or a fake
 * in tests). It knows nothing about ids or methods: {@link CdpConnection} does that, so any
 * transport can be swapped in, as in vscode-js-debug.
 */
export interface CdpTransport {
  /** Sends one CDP message (JSON text). Ignored once the transport is closed. */
  send(message: string): void;
  /** Every message that arrives, as text, in order. */
  readonly onMessage: Event<string>;
  /** Fires once when the transport is closed, by either side. */
  readonly onClose: Event<TransportCloseInfo>;
  /** Closes the transport; idempotent. `onClose` fires (once) soon after. */
  close(): void;
}
