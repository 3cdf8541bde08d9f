/**
 * A minimal sente-lite-shaped peer over raw sockets (`Deno.serve` + `Deno.upgradeWebSocket`, and
 * a plain `WebSocket` client) with the wire pipeline on both ends — not the Hub or the Client.
 * Used by the end-to-end test and `bench/efficiency.ts`.
 *
 * The server speaks first with a JSON handshake that carries the negotiated capabilities and the
 * `"wire"` entry, exactly as the Hub will; from then on every frame goes through the pipeline.
 */
import { jsonPacker } from "../../lib/packers/json.ts";
import {
  clientEventEnvelope,
  decodeClientEnvelope,
  serverEnvelope,
} from "../../lib/protocol/envelope.ts";
import type { Event } from "../../lib/protocol/event.ts";
import { Batcher } from "../../lib/wire/batcher.ts";
import type { BatcherOptions } from "../../lib/wire/batcher.ts";
import { clientBatchEnvelope, decodeClientBatch } from "../../lib/wire/batch_frame.ts";
import {
  capabilityNames,
  negotiate,
  settingsFromHandshake,
  WIRE_PARAM,
  wireHandshakeEntry,
  wireQueryValue,
} from "../../lib/wire/capabilities.ts";
import type { WireFeatures, WireSettings } from "../../lib/wire/capabilities.ts";
import { ReassemblyBudget } from "../../lib/wire/chunking.ts";
import type { WireError } from "../../lib/wire/errors.ts";
import { WIRE_DEFAULTS, WireReceiver, WireSender } from "../../lib/wire/pipeline.ts";
import type { WireOptions } from "../../lib/wire/pipeline.ts";
import type { Frame } from "../../lib/packers/packer.ts";

/** One end of a connection. */
export interface RawPeer {
  /** What was negotiated. */
  readonly settings: WireSettings;
  readonly sender: WireSender;
  readonly receiver: WireReceiver;
  readonly batcher: Batcher<unknown> | null;
  /** Sends an event (batched when batching is on, unless `urgent`). */
  send(id: string, data: unknown, options?: { urgent?: boolean }): void;
  /** Errors the receiver reported. */
  readonly errors: WireError[];
  close(): void;
}

/** What a peer does with each event it receives. */
export type OnEvent = (peer: RawPeer, id: string, data: unknown) => void;

/** Options of both ends. */
export interface RawOptions {
  features: WireFeatures;
  wire?: WireOptions;
  batching?: BatcherOptions<unknown>;
}

const decoder = new TextDecoder();

function text(frame: Frame): string {
  return typeof frame === "string" ? frame : decoder.decode(frame);
}

function makePeer(
  side: "server" | "client",
  socket: WebSocket,
  settings: WireSettings,
  options: RawOptions,
  onEvent: OnEvent,
  budget?: ReassemblyBudget,
): RawPeer {
  const errors: WireError[] = [];
  const sender = new WireSender(settings, socket, options.wire);
  const receiver = new WireReceiver(settings, {
    frame(frame) {
      const value = jsonPacker.unpack(side === "server" ? frame : text(frame));
      if (side === "server") {
        for (const env of decodeClientBatch(value) ?? [value]) {
          const ev = decodeClientEnvelope(env);
          onEvent(peer, ev.id, ev.data);
        }
      } else {
        const [events] = value as [Event[], null];
        for (const [id, data] of events) onEvent(peer, id, data);
      }
    },
    error(e) {
      errors.push(e);
      if (e.fatal) socket.close(e.closeCode, e.code);
    },
  }, { ...options.wire, budget });
  const flush = (items: unknown[]) => {
    if (side === "server") {
      sender.send(jsonPacker.pack(serverEnvelope({ type: "push", events: items as Event[] })));
    } else {
      sender.send(jsonPacker.pack(items.length === 1 ? items[0] : clientBatchEnvelope(items)));
    }
  };
  const batcher = settings.batching ? new Batcher(flush, options.batching) : null;
  const item = (id: string, data: unknown) =>
    side === "server" ? [id, data] : clientEventEnvelope(id, data, null);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("message", (e) => {
    const frame = typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer);
    receiver.receive(frame);
  });
  socket.addEventListener("close", () => {
    batcher?.close();
    sender.close();
    receiver.close();
  });
  const peer: RawPeer = {
    settings,
    sender,
    receiver,
    batcher,
    errors,
    send(id, data, opts = {}) {
      if (batcher) batcher.add(item(id, data), opts);
      else flush([item(id, data)]);
    },
    close() {
      socket.close(1000);
    },
  };
  return peer;
}

/** A running raw server. */
export interface RawServer {
  readonly url: string;
  readonly peers: Set<RawPeer>;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1, port 0. */
export function startRawServer(options: RawOptions, onEvent: OnEvent): RawServer {
  const peers = new Set<RawPeer>();
  const budget = new ReassemblyBudget(256 * 1024 * 1024);
  const limits = {
    compressThreshold: options.wire?.compressThreshold ?? WIRE_DEFAULTS.compressThreshold,
    chunkSize: options.wire?.chunkSize ?? WIRE_DEFAULTS.chunkSize,
    maxChunks: options.wire?.maxChunks ?? WIRE_DEFAULTS.maxChunks,
    maxAssembledBytes: options.wire?.maxAssembledBytes ?? WIRE_DEFAULTS.maxAssembledBytes,
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const offer = new URL(req.url).searchParams.get(WIRE_PARAM);
    const settings = negotiate(options.features, offer);
    const { socket, response } = Deno.upgradeWebSocket(req);
    const peer = makePeer("server", socket, settings, options, onEvent, budget);
    socket.addEventListener("open", () => {
      peers.add(peer);
      const info: Record<string, unknown> = {
        "version": 1,
        "conn-id": "raw",
        "capabilities": ["channels", ...capabilityNames(settings)],
      };
      const entry = wireHandshakeEntry(settings, limits);
      if (entry) info["wire"] = entry;
      // The handshake is sent plain, before the pipeline: it is the first frame and small.
      socket.send(jsonPacker.pack(
        serverEnvelope({ type: "handshake", uid: "u", data: { "sente-lite": info } }),
      ) as string);
    });
    socket.addEventListener("close", () => peers.delete(peer));
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/chsk`,
    peers,
    async close() {
      for (const p of peers) p.close();
      await server.shutdown();
    },
  };
}

/** Connects a client offering `options.features`; resolves after the handshake. */
export function connectRaw(url: string, options: RawOptions, onEvent: OnEvent): Promise<RawPeer> {
  const offer = wireQueryValue(options.features);
  const socket = new WebSocket(
    `${url}?client-id=c1&packer=json${offer ? `&${WIRE_PARAM}=${offer}` : ""}`,
  );
  return new Promise((resolve, reject) => {
    socket.addEventListener("error", () => reject(new Error("connect failed")), { once: true });
    socket.addEventListener("message", (e) => {
      const [[, [, , data]]] = JSON.parse(e.data as string);
      const info = data["sente-lite"];
      const settings = settingsFromHandshake(options.features, info.capabilities, info.wire);
      resolve(makePeer("client", socket, settings, options, onEvent));
    }, { once: true });
  });
}

/** Resolves when `socket`-side work is done: the sender idle and the batcher empty. */
export async function settled(peer: RawPeer): Promise<void> {
  peer.batcher?.flush();
  await peer.sender.idle();
}
