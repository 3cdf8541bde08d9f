// This module is browser compatible.
/** The entry of `dist/client-full.min.js`: the client, its wire transforms and telemetry. */
export * from "../../client.ts";
export * from "../../client_wire.ts";
export * from "../../telemetry.ts";
