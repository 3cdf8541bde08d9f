// This module is browser compatible.
/**
 * The EDN packer: Sente's default packer and the wire format of the original sente-lite. It lives
 * behind its own entrypoint so the core client bundle stays small.
 *
 * ```ts
 * import { ednPacker, keyword } from "./edn.ts";
 *
 * // Sente 1.21 frames: [payload cb]
 * const sente = ednPacker();
 * console.log(sente.pack([["chsk/handshake", ["alice", null, null]], null]));
 * // [[:chsk/handshake ["alice" nil nil]] nil]
 * console.log(sente.unpack('[[:my-app/some-req {:data "data"}] "3f2c1a"]'));
 * // [["my-app/some-req", { data: "data" }], "3f2c1a"]
 *
 * // Original sente-lite frames: bare [id data] events; keep keywords inside data exact.
 * const original = ednPacker({ envelope: "event", keywords: "keyword" });
 * console.log(original.pack(["sente-lite/subscribed", { "channel-id": "c1", error: keyword("not-subscribed") }]));
 * // [:sente-lite/subscribed {:channel-id "c1", :error :not-subscribed}]
 * ```
 *
 * @module
 */

export { ednPacker, type EdnPackerOptions } from "./lib/packers/edn.ts";
export { Keyword, keyword } from "./lib/packers/keyword.ts";
export type { ClojureDataOptions } from "./lib/packers/_values.ts";
export { Uuid } from "./lib/packers/uuid.ts";
export type { EnvelopeShape } from "./lib/packers/_keywordize.ts";
export type { Frame, Packer } from "./lib/packers/packer.ts";
