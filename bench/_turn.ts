/**
 * Lets the event loop turn (I/O runs) without a timer. Nested `setTimeout(0)` is clamped to 4 ms
 * after five levels, so a benchmark that paces bursts with it measures the clamp, not the sockets.
 */
export function turn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
