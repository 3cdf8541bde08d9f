/**
 * A WebSocket peer that completes the upgrade over raw TCP and then never reads: the slow
 * consumer of the backpressure tests.
 */

/** Opens the upgrade for `url` and returns the TCP connection, left unread. */
export async function slowPeer(url: string): Promise<Deno.TcpConn> {
  const u = new URL(url);
  u.searchParams.set("client-id", crypto.randomUUID());
  u.searchParams.set("packer", "json");
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const request = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
    `Sec-WebSocket-Version: 13\r\n\r\n`;
  await conn.write(new TextEncoder().encode(request));
  // Read just the response head (and whatever came with it), then stop reading for good.
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
  if (!head.startsWith("HTTP/1.1 101")) {
    throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
  }
  return conn;
}

/** Sends a WebSocket upgrade over raw TCP and returns the response's status code. */
export async function upgradeStatus(url: string): Promise<number> {
  const u = new URL(url);
  u.searchParams.set("client-id", crypto.randomUUID());
  u.searchParams.set("packer", "json");
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    const line = new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
    return Number(line.split(" ")[1]);
  } finally {
    conn.close();
  }
}

/** Reads server→client WebSocket frames (unmasked, unfragmented text) from a raw connection. */
export async function* readTextFrames(conn: Deno.TcpConn): AsyncGenerator<string> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  for (;;) {
    // Parse every complete frame in the buffer.
    for (;;) {
      if (buf.length < 2) break;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = (buf[2] << 8) | buf[3];
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
        off = 10;
      }
      if (buf.length < off + len) break;
      const opcode = buf[0] & 0x0f;
      if (opcode === 0x8) return; // close
      if (opcode === 0x1) yield decoder.decode(buf.subarray(off, off + len));
      buf = buf.slice(off + len);
    }
    const n = await conn.read(chunk);
    if (n === null) return;
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
  }
}
