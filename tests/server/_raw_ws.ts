/**
 * A raw-TCP WebSocket attacker for tests: completes a real upgrade for the Hub's path, reads the
 * 101 and the handshake frame, then sends hand-built (possibly illegal) frames and records what
 * the server answers: a close frame (with its code) or a bare TCP close without one.
 */
import { withTimeout } from "../_util.ts";

/** One frame as read from the server (never masked). */
export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Uint8Array;
}

/** What the server did after the attack frame. */
export type Outcome =
  /** A close frame came (`code` 1005 when it had no payload). */
  | { kind: "close-frame"; code: number; reason: string; ms: number }
  /** The TCP connection ended (EOF or reset) without a close frame. */
  | { kind: "tcp-close"; error: string | null; ms: number }
  /** A text frame came first: the frame got through to the Hub, which answered. */
  | { kind: "text"; text: string; ms: number };

/** The fields of a client frame to build; anything may be illegal on purpose. */
export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array;
  /** @default {true} */
  fin?: boolean;
  /** The three RSV bits as a number 0–7 (RSV1 = 4, RSV2 = 2, RSV3 = 1). @default {0} */
  rsv?: number;
  /** Clients must mask; `false` sends an unmasked frame. @default {true} */
  mask?: boolean;
}

/** Encodes one frame exactly as specified (lengths 0–65535). */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const mask = spec.mask ?? true;
  const len = payload.length;
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else head.push(m | 126, len >> 8, len & 0xff);
  const key = mask ? crypto.getRandomValues(new Uint8Array(4)) : new Uint8Array(0);
  const out = new Uint8Array(head.length + key.length + len);
  out.set(head);
  out.set(key, head.length);
  const body = out.subarray(head.length + key.length);
  for (let i = 0; i < len; i++) body[i] = mask ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}

/** A raw upgraded connection with a frame reader over it. */
export class RawWs {
  readonly conn: Deno.TcpConn;
  /** The `client-id` sent in the upgrade (the Hub's `ConnectionInfo.clientId`). */
  readonly clientId: string;
  #buf: Uint8Array;
  #eof = false;

  constructor(conn: Deno.TcpConn, clientId: string, leftover: Uint8Array) {
    this.conn = conn;
    this.clientId = clientId;
    this.#buf = leftover;
  }

  /** Opens `url` (a `ws://127.0.0.1:…/chsk` URL) with the json packer; resolves after the 101. */
  static async open(url: string, timeoutMs = 5000): Promise<RawWs> {
    const u = new URL(url);
    const clientId = crypto.randomUUID();
    u.searchParams.set("client-id", clientId);
    u.searchParams.set("packer", "json");
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await conn.write(new TextEncoder().encode(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ));
    const readHead = async (): Promise<RawWs> => {
      let buf: Uint8Array = new Uint8Array(0);
      const chunk = new Uint8Array(4096);
      for (let i = 0; i < 64; i++) {
        const end = indexOfCrlfCrlf(buf);
        if (end >= 0) {
          const head = new TextDecoder().decode(buf.subarray(0, end));
          if (!head.startsWith("HTTP/1.1 101")) {
            throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
          }
          return new RawWs(conn, clientId, buf.slice(end + 4));
        }
        const n = await conn.read(chunk);
        if (n === null) throw new Error("EOF before the 101 response");
        buf = concat(buf, chunk.subarray(0, n));
      }
      throw new Error("no end of the response head");
    };
    try {
      return await withTimeout(readHead(), timeoutMs, "the 101 response");
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** The next frame; `null` at EOF. Rejects with the socket's error (e.g. a reset). */
  async next(): Promise<ServerFrame | null> {
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const frame = this.#parse();
      if (frame) return frame;
      if (this.#eof) return null;
      const n = await this.conn.read(chunk);
      if (n === null) {
        this.#eof = true;
        continue;
      }
      this.#buf = concat(this.#buf, chunk.subarray(0, n));
    }
  }

  /** The next text frame's text (skipping pings and other frames); rejects on a close or EOF. */
  async nextText(timeoutMs = 5000): Promise<string> {
    const read = async () => {
      for (;;) {
        const frame = await this.next();
        if (frame === null) throw new Error("EOF while waiting for a text frame");
        if (frame.opcode === 0x8) throw new Error("closed while waiting for a text frame");
        if (frame.opcode === 0x1) return new TextDecoder().decode(frame.payload);
      }
    };
    return await withTimeout(read(), timeoutMs, "a text frame");
  }

  /** Writes raw bytes (a frame from {@linkcode buildFrame}, or anything). */
  async send(bytes: Uint8Array): Promise<void> {
    await this.conn.write(bytes);
  }

  /**
   * Waits for the server's reaction: the first close frame, the end of the TCP connection without
   * one, or (with `text: true`) a text frame. Other frames are skipped. Times the wait from the
   * call.
   */
  async outcome(timeoutMs = 5000, { text = false }: { text?: boolean } = {}): Promise<Outcome> {
    const start = performance.now();
    const ms = () => Math.round(performance.now() - start);
    const read = async (): Promise<Outcome> => {
      try {
        for (;;) {
          const frame = await this.next();
          if (frame === null) return { kind: "tcp-close", error: null, ms: ms() };
          if (text && frame.opcode === 0x1) {
            return { kind: "text", text: new TextDecoder().decode(frame.payload), ms: ms() };
          }
          if (frame.opcode !== 0x8) continue;
          const p = frame.payload;
          const code = p.length >= 2 ? (p[0] << 8) | p[1] : 1005;
          const reason = new TextDecoder().decode(p.subarray(2));
          return { kind: "close-frame", code, reason, ms: ms() };
        }
      } catch (e) {
        return { kind: "tcp-close", error: (e as Error).name, ms: ms() };
      }
    };
    return await withTimeout(read(), timeoutMs, "a close frame or the end of the connection");
  }

  /** Closes the TCP connection (idempotent). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  #parse(): ServerFrame | null {
    const buf = this.#buf;
    if (buf.length < 2) return null;
    let len = buf[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (buf.length < 4) return null;
      len = (buf[2] << 8) | buf[3];
      off = 4;
    } else if (len === 127) {
      if (buf.length < 10) return null;
      len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
      off = 10;
    }
    if (buf[1] & 0x80) off += 4; // a masked server frame is illegal, but read past the key
    if (buf.length < off + len) return null;
    const frame = {
      fin: (buf[0] & 0x80) !== 0,
      rsv: (buf[0] >> 4) & 0x7,
      opcode: buf[0] & 0x0f,
      payload: buf.slice(off, off + len),
    };
    this.#buf = buf.slice(off + len);
    return frame;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfCrlfCrlf(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** The illegal client frames of RFC 6455 §5 that the tests send, by name. */
export const ATTACKS: Readonly<Record<string, () => Uint8Array>> = {
  "text frame with invalid UTF-8": () =>
    buildFrame({ opcode: 0x1, payload: new Uint8Array([0xc3, 0x28]) }),
  "RSV1 set (no extension negotiated)": () =>
    buildFrame({ opcode: 0x1, rsv: 4, payload: new TextEncoder().encode("[]") }),
  "RSV2 set": () => buildFrame({ opcode: 0x1, rsv: 2, payload: new TextEncoder().encode("[]") }),
  "RSV3 set": () => buildFrame({ opcode: 0x1, rsv: 1, payload: new TextEncoder().encode("[]") }),
  "unmasked client text frame": () =>
    buildFrame({ opcode: 0x1, mask: false, payload: new TextEncoder().encode("[]") }),
  "reserved data opcode 0x3": () => buildFrame({ opcode: 0x3, payload: new Uint8Array([1]) }),
  "reserved control opcode 0xB": () => buildFrame({ opcode: 0xb }),
  "fragmented ping (FIN clear)": () =>
    buildFrame({ opcode: 0x9, fin: false, payload: new Uint8Array([1]) }),
  "ping with a 126-byte payload": () => buildFrame({ opcode: 0x9, payload: new Uint8Array(126) }),
  "continuation frame without a start": () =>
    buildFrame({ opcode: 0x0, payload: new TextEncoder().encode("[]") }),
  "new text frame inside a fragmented message": () =>
    concat(
      buildFrame({ opcode: 0x1, fin: false, payload: new TextEncoder().encode("[") }),
      buildFrame({ opcode: 0x1, payload: new TextEncoder().encode("]") }),
    ),
  "close frame with a 1-byte payload": () =>
    buildFrame({ opcode: 0x8, payload: new Uint8Array([3]) }),
  "close frame with reserved code 1005": () =>
    buildFrame({ opcode: 0x8, payload: new Uint8Array([0x03, 0xed]) }),
};
