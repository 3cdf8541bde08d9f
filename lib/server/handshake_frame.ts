/**
 * The handshake frame of the sente-lite dialect with the JSON packer, written from pre-serialized
 * parts instead of `JSON.stringify` on the envelope: one is sent per connection, and the generic
 * path (`buildHandshakeData`, `serverEnvelope`, `jsonPacker.pack`) spent 4–6 % of the library's
 * CPU per connection on Bun (bench/connrate.ts). The text is the generic path's, byte for byte
 * (tests/server/handshake_frame_test.ts compares them), and its UTF-8 size is counted from the
 * parts, so the frame is not scanned again to count it. Strings that need no escaping are quoted
 * by hand: `JSON.stringify` on each short string cost Bun as much as on the whole envelope.
 *
 * Only for handshakes without application data (`handshakeData`): those take the generic path.
 *
 * @module
 */
import { HANDSHAKE_KEY, type ResumeState, type ServerInfo } from "../protocol/handshake.ts";
import { utf8ByteLength } from "../util/utf8.ts";

const HEAD = '[["chsk/handshake",[';
const INFO = `,null,{${JSON.stringify(HANDSHAKE_KEY)}:{"version":`;
const TAIL = "}}]],null]";

/**
 * The parts of one frame, joined once at the end: `join` makes one flat string, where `+` would
 * make a rope of a dozen pieces that the frame's byte count and the socket would flatten again.
 * Not reentrant (nothing it calls sends).
 */
const parts: string[] = [];
/** UTF-8 bytes beyond one per UTF-16 unit in the parts so far. */
let extra = 0;

/** A finite number as JSON writes it (`null` otherwise, as `JSON.stringify` does). */
function num(n: number): string {
  return Number.isFinite(n) ? "" + n : "null";
}

/**
 * A string as JSON (`null` for anything else, as the client reads a missing one), counting its
 * UTF-8 bytes into `extra`. Ids, tokens and most uids need no escape: only those that do (a quote,
 * a backslash, a control character or a surrogate) pay for `JSON.stringify`.
 */
function str(s: string | null | undefined): string {
  if (typeof s !== "string") return "null";
  let more = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      const json = JSON.stringify(s);
      extra += utf8ByteLength(json) - json.length;
      return json;
    }
    if (c >= 0x80) more += c < 0x800 ? 1 : 2;
  }
  extra += more;
  return '"' + s + '"';
}

/** JSON written by `JSON.stringify`, its UTF-8 bytes counted into `extra`. */
function json(value: unknown): string {
  const text = JSON.stringify(value);
  extra += utf8ByteLength(text) - text.length;
  return text;
}

/**
 * The capability lists repeat (a server announces a handful of combinations), so the last one's
 * JSON is kept and reused when the next list has the same names.
 */
let lastCapabilities: readonly string[] = [];
let lastCapabilitiesJson = "[]";
let lastCapabilitiesExtra = 0;

function capabilitiesJson(capabilities: readonly string[]): string {
  const last = lastCapabilities;
  if (capabilities.length === last.length) {
    let i = 0;
    while (i < last.length && capabilities[i] === last[i]) i++;
    if (i === last.length) {
      extra += lastCapabilitiesExtra;
      return lastCapabilitiesJson;
    }
  }
  const before = extra;
  lastCapabilitiesJson = json(capabilities);
  lastCapabilitiesExtra = extra - before;
  lastCapabilities = capabilities.slice();
  return lastCapabilitiesJson;
}

function pushResume(s: ResumeState): void {
  parts.push(
    ',"resume":{"resumed":',
    s.resumed ? "true" : "false",
    ',"gap":',
    s.gap === null || s.gap === undefined ? "null" : json(s.gap),
    ',"ack":',
    num(s.ack),
    ',"seq":',
    num(s.seq),
    ',"token":',
    str(s.token),
  );
  if (s.cseq !== undefined) parts.push(',"cseq":', num(s.cseq));
  parts.push("}");
}

/** A handshake frame's text and its size in UTF-8 bytes. */
export interface HandshakeFrame {
  /** The JSON text. */
  text: string;
  /** Its length in UTF-8 bytes. */
  bytes: number;
}

/**
 * The sente-lite handshake for `uid` with the library's `info` and no application data: its text
 * is what `jsonPacker.pack(serverEnvelope({ type: "handshake", uid, data: buildHandshakeData(
 * undefined, info) }))` returns.
 */
export function handshakeFrame(uid: string, info: ServerInfo): HandshakeFrame {
  extra = 0;
  parts.length = 0;
  parts.push(
    HEAD,
    str(uid),
    INFO,
    num(info.version),
    ',"conn-id":',
    str(info.connId),
    ',"max-message-bytes":',
    num(info.maxMessageBytes),
    ',"capabilities":',
    capabilitiesJson(info.capabilities),
  );
  if (info.wire) parts.push(',"wire":', json(info.wire));
  if (info.resume) pushResume(info.resume);
  parts.push(TAIL);
  const text = parts.join("");
  parts.length = 0;
  return { text, bytes: text.length + extra };
}
