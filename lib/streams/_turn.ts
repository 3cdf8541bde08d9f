// This module is browser compatible.
/**
 * One event-loop turn without a timer (the same idea as `lib/wire/inflation.ts` `turn`, kept
 * here so that `client/streams` does not pull in the wire's inflation module).
 *
 * @module
 */

/**
 * Resolves after one event-loop turn: a `MessageChannel` task, so pending socket I/O runs first
 * and nested calls are not clamped to 4 ms as `setTimeout(0)` is. Falls back to `setTimeout(0)`
 * where `MessageChannel` is missing.
 */
export function turn(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof MessageChannel !== "function") return void setTimeout(resolve, 0);
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
