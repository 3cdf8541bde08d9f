/** A WebSocket upgrade request over raw TCP, for tests that read the HTTP answer itself. */

/** The answer's status line and headers, and the socket (left open: close it when done). */
export interface RawUpgrade {
  status: number;
  /** The response head, up to and including the blank line. */
  head: string;
  conn: Deno.TcpConn;
}

/**
 * Sends a WebSocket upgrade for `/chsk` with a fresh client id, `query` (e.g. `&test-ip=…`) and
 * extra `headers` to 127.0.0.1:`port`, and reads the response head.
 */
export async function rawUpgrade(
  port: number,
  query = "",
  headers: Record<string, string> = {},
): Promise<RawUpgrade> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const request = `GET /chsk?client-id=${crypto.randomUUID()}${query} HTTP/1.1\r\n` +
    `Host: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
  await conn.write(new TextEncoder().encode(request));
  let head = "";
  const buf = new Uint8Array(4096);
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, conn };
}
