// This module is browser compatible.
/**
 * Where the default telemetry instance is found by code that must not import it: the core client
 * reports to the default instance of `./telemetry` when that module is loaded, without pulling
 * telemetry into bundles of apps that never load it (an app that never imports `./telemetry`
 * cannot have added a handler to the default instance, so nothing is lost).
 *
 * @module
 */
import type { ClientTelemetry } from "../client/transforms.ts";

/** Set by `lib/telemetry/default.ts` when it loads. */
export const defaultTelemetrySlot: { current: ClientTelemetry | undefined } = {
  current: undefined,
};
