/**
 * The handshake frame of the sente-lite dialect with the JSON packer, written from pre-serialized
 * parts instead of `JSON.stringify` on the envelope: one is sent per connection, and the generic
 * path (`buildHandshakeData`, `serverEnvelope`, `jsonPacker.pack`) spent 4–6 % of the library's
 * CPU per connection on Bun (bench/connrate.ts). The text is the generic path's, byte for byte
 * (tests/server/handshake_frame_test.ts compares them).
 *
 * Only for handshakes without application data (`handshakeData`): those take the generic path.
 *
 * @module
 */
import { HANDSHAKE_KEY, type ResumeState, type ServerInfo } from "../protocol/handshake.ts";

const HEAD = '[["chsk/handshake",[';
const INFO = `,null,{${JSON.stringify(HANDSHAKE_KEY)}:{"version":`;
const TAIL = "}}]],null]";

/** A finite number as JSON writes it (`null` otherwise, as `JSON.stringify` does). */
function num(n: number): string {
  return Number.isFinite(n) ? "" + n : "null";
}

/** A string as JSON (`null` for anything else, as the client reads a missing one). */
function str(s: string | null | undefined): string {
  return typeof s === "string" ? JSON.stringify(s) : "null";
}

/**
 * The capability lists repeat (a server announces a handful of combinations), so the last one's
 * JSON is kept and reused when the next list has the same names.
 */
let lastCapabilities: readonly string[] = [];
let lastCapabilitiesJson = "[]";

function capabilitiesJson(capabilities: readonly string[]): string {
  const last = lastCapabilities;
  if (capabilities.length === last.length) {
    let i = 0;
    while (i < last.length && capabilities[i] === last[i]) i++;
    if (i === last.length) return lastCapabilitiesJson;
  }
  lastCapabilitiesJson = JSON.stringify(capabilities);
  lastCapabilities = capabilities.slice();
  return lastCapabilitiesJson;
}

function resumeJson(s: ResumeState): string {
  let out = `{"resumed":${s.resumed ? "true" : "false"},"gap":${
    s.gap === null || s.gap === undefined ? "null" : JSON.stringify(s.gap)
  },"ack":${num(s.ack)},"seq":${num(s.seq)},"token":${str(s.token)}`;
  if (s.cseq !== undefined) out += `,"cseq":${num(s.cseq)}`;
  return out + "}";
}

/**
 * The JSON text of the sente-lite handshake for `uid` with the library's `info` and no
 * application data: what `jsonPacker.pack(serverEnvelope({ type: "handshake", uid, data:
 * buildHandshakeData(undefined, info) }))` returns.
 */
export function handshakeJson(uid: string, info: ServerInfo): string {
  let out = HEAD + JSON.stringify(uid) + INFO + num(info.version) + ',"conn-id":' +
    str(info.connId) + ',"max-message-bytes":' + num(info.maxMessageBytes) +
    ',"capabilities":' + capabilitiesJson(info.capabilities);
  if (info.wire) out += ',"wire":' + JSON.stringify(info.wire);
  if (info.resume) out += ',"resume":' + resumeJson(info.resume);
  return out + TAIL;
}
