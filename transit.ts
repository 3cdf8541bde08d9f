// This module is browser compatible.
/**
 * The Transit packer, for talking to Sente peers configured with `:packer :transit`. It lives
 * behind its own entrypoint so the core client bundle does not carry transit-js.
 *
 * ```ts
 * import { keyword, transitPacker } from "./transit.ts";
 *
 * const packer = transitPacker();
 * // Event ids, sentinels and object keys become keywords; other strings stay strings.
 * console.log(packer.pack([["my-app/some-req", { data: "data" }], "3f2c1a"]));
 * // [["~:my-app/some-req",["^ ","~:data","data"]],"3f2c1a"]
 * console.log(packer.pack([["my-app/alert", { level: keyword("warn") }], null]));
 * // [["~:my-app/alert",["^ ","~:level","~:warn"]],null]
 * console.log(packer.unpack('["~:chsk/ws-ping",null]')); // ["chsk/ws-ping", null]
 * ```
 *
 * @module
 */

export { transitPacker, type TransitPackerOptions } from "./lib/packers/transit.ts";
export { Keyword, keyword } from "./lib/packers/keyword.ts";
export type { ClojureDataOptions } from "./lib/packers/_values.ts";
export { Uuid } from "./lib/packers/uuid.ts";
export type { EnvelopeShape } from "./lib/packers/_keywordize.ts";
export type { Frame, Packer } from "./lib/packers/packer.ts";
