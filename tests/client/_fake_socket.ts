/**
 * A scripted in-memory WebSocket for client tests in virtual time: the test plays the server
 * (open, handshake, frames, close codes) and reads what the client sent.
 */

/** One fake socket; `FakeWebSocket.instances` lists every socket the client made. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static reset(): void {
    FakeWebSocket.instances = [];
  }
  static get last(): FakeWebSocket {
    const ws = FakeWebSocket.instances.at(-1);
    if (!ws) throw new Error("the client made no socket");
    return ws;
  }

  readonly url: string;
  readyState = 0;
  binaryType = "blob";
  sent: string[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  send(frame: string): void {
    if (this.readyState !== 1) throw new Error(`send on a socket in state ${this.readyState}`);
    this.sent.push(frame);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this.closedWith = { code, reason };
  }

  // ---- the server's side

  /** The socket opens. */
  open(): this {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
    return this;
  }

  /** The server sends one envelope value. */
  serverSend(value: unknown): this {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(value) }));
    return this;
  }

  /** The server's handshake. */
  handshake(uid = "u1", data: Record<string, unknown> = {}): this {
    return this.serverSend([["chsk/handshake", [uid, null, data]], null]);
  }

  /** Opens and handshakes. */
  accept(uid = "u1"): this {
    return this.open().handshake(uid);
  }

  /** The connection closes with `code` (the close event arrives). */
  serverClose(code = 1006, reason = ""): this {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code, reason, wasClean: code !== 1006 }));
    return this;
  }

  /** Sent frames, parsed. */
  sentValues(): unknown[] {
    return this.sent.map((f) => JSON.parse(f));
  }

  /** Sent frames whose event id is `id`. */
  sentEvents(id: string): [unknown[], string | null][] {
    return this.sentValues().filter((v) => (v as [[string]])[0][0] === id) as [
      unknown[],
      string | null,
    ][];
  }

  /** Replies to the last request with event `id`. */
  reply(id: string, value: unknown): this {
    const req = this.sentEvents(id).at(-1);
    if (!req || req[1] === null) throw new Error(`no request ${id} was sent`);
    return this.serverSend([value, req[1]]);
  }
}
