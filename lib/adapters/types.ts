/**
 * What every runtime adapter's `serve` takes and returns.
 *
 * @module
 */

/** Where to listen. */
export interface ServeOptions {
  /**
   * TCP port; 0 picks a free one.
   * @default {0}
   */
  port?: number;
  /**
   * Interface to bind.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
}

/** A running server. */
export interface ServeHandle {
  /** The bound interface. */
  readonly hostname: string;
  /** The actual port (useful with port 0). */
  readonly port: number;
  /** The WebSocket URL of the endpoint, e.g. `ws://127.0.0.1:3000/chsk`. */
  readonly url: string;
  /** Closes every connection with 1001 and stops listening. */
  close(): Promise<void>;
  /** Settles when the server stopped. */
  readonly finished: Promise<void>;
}
