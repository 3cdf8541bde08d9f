/**
 * A scripted raw WebSocket peer for protocol tests: sends exact frames and reads exact frames,
 * with bounded waits.
 */
import assert from "node:assert/strict";
import { resumeProtocol } from "../lib/protocol/resume_token.ts";
import type { ResumeState } from "../lib/protocol/handshake.ts";

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

/**
 * A JSON raw peer to `base` (the `/chsk` URL of `serveAsTestIp`) counted as address `ip`, with
 * `params` in the query and a fresh client id; await its `opened` (its handshake is unread).
 */
export function peerAt(base: string, ip: string, params: Record<string, string> = {}): RawPeer {
  const u = new URL(base);
  u.searchParams.set("client-id", crypto.randomUUID());
  u.searchParams.set("packer", "json");
  u.searchParams.set("test-ip", ip);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return new RawPeer(u.href);
}

/** Opens a raw peer to `url` with a client id and reads the handshake; closes it on failure. */
export async function rawPeer(
  url: string,
  clientId = crypto.randomUUID(),
): Promise<{ peer: RawPeer; handshake: unknown }> {
  const u = new URL(url);
  u.searchParams.set("client-id", clientId);
  u.searchParams.set("packer", "json");
  const peer = new RawPeer(u.href);
  try {
    await peer.opened;
    return { peer, handshake: await peer.nextJson() };
  } catch (e) {
    // A socket that opened but brought no handshake must not stay open (a leak fails the test).
    peer.ws.close();
    throw e;
  }
}

/** A raw peer that asked to resume, and what its handshake told it. */
export interface ResumingPeer {
  peer: RawPeer;
  connId: string;
  capabilities: string[];
  resume: ResumeState;
}

/**
 * Opens a sente-lite (JSON) raw peer to `url` asking to resume and reads its handshake: `params`
 * go into the query (`client-id`, and e.g. `cseq`, `uid`, `test-ip`), `token` is offered as the
 * resume subprotocol.
 */
export async function resumingPeer(
  url: string,
  params: Record<string, string>,
  token?: string,
): Promise<ResumingPeer> {
  const u = new URL(url);
  u.searchParams.set("packer", "json");
  u.searchParams.set("resume", "0");
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  const peer = new RawPeer(u.href, token ? ["sente-lite", resumeProtocol(token)] : undefined);
  await peer.opened;
  type Info = Omit<ResumingPeer, "peer" | "connId"> & { "conn-id": string };
  const [[id, [, , data]]] = await peer.nextJson() as [
    [string, [string, null, { "sente-lite": Info }]],
  ];
  assert.equal(id, "chsk/handshake");
  const info = data["sente-lite"];
  return { peer, connId: info["conn-id"], capabilities: info.capabilities, resume: info.resume };
}
