// This module is browser compatible.
/** The entry of `dist/client-telemetry.min.js`: the client and the telemetry library. */
export * from "../../client.ts";
export * from "../../telemetry.ts";
