/**
 * A scripted raw WebSocket peer for protocol tests: sends exact frames and reads exact frames,
 * with bounded waits.
 */

/** A raw peer connection. */
export class RawPeer {
  readonly ws: WebSocket;
  readonly frames: (string | Uint8Array)[] = [];
  closeEvent: CloseEvent | null = null;
  #waiters: (() => void)[] = [];
  readonly opened: Promise<void>;

  constructor(url: string, protocols?: string[]) {
    this.ws = new WebSocket(url, protocols);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    this.ws.onmessage = (e) => {
      this.frames.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data));
      this.#wake();
    };
    this.ws.onclose = (e) => {
      this.closeEvent = e;
      this.#wake();
    };
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  async #until(pred: () => boolean, what: string, timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
    });
    try {
      while (!pred()) {
        await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), timeout]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next frame, as text. */
  async next(timeoutMs = 3000): Promise<string> {
    await this.#until(
      () => this.frames.length > 0 || this.closeEvent !== null,
      "a frame",
      timeoutMs,
    );
    const f = this.frames.shift();
    if (f === undefined) {
      throw new Error(`closed (${this.closeEvent?.code}) while waiting for a frame`);
    }
    return typeof f === "string" ? f : new TextDecoder().decode(f);
  }

  /** The next frame, parsed as JSON. */
  async nextJson(timeoutMs = 3000): Promise<unknown> {
    return JSON.parse(await this.next(timeoutMs));
  }

  /** Waits for the close event. */
  async closed(timeoutMs = 3000): Promise<CloseEvent> {
    await this.#until(() => this.closeEvent !== null, "close", timeoutMs);
    return this.closeEvent!;
  }

  send(frame: string | Uint8Array): void {
    this.ws.send(frame as string);
  }

  close(): Promise<CloseEvent> {
    if (!this.closeEvent) this.ws.close();
    return this.closed();
  }
}

/** Opens a raw peer to `url` with a client id and reads the handshake. */
export async function rawPeer(
  url: string,
  clientId = crypto.randomUUID(),
): Promise<{ peer: RawPeer; handshake: unknown }> {
  const u = new URL(url);
  u.searchParams.set("client-id", clientId);
  u.searchParams.set("packer", "json");
  const peer = new RawPeer(u.href);
  await peer.opened;
  const handshake = await peer.nextJson();
  return { peer, handshake };
}
