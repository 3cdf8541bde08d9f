// This module is browser compatible.
/** The browser test's bundle: the client and its opt-in streams, as one module. */
export * from "../../client.ts";
export { clientStreams } from "../../client_streams.ts";
