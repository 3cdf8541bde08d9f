/**
 * Lifecycle configuration from a plain object or a JSON file, validated with messages that name
 * the bad key and value (`config.server.port must be an integer from 0 to 65535, got "80"`).
 * Unknown keys are errors too, so typos do not pass silently.
 *
 * @module
 */
import type { ServerOptions } from "../server/options.ts";
import type { OperationsOptions } from "./operations.ts";
import type { ServerComponentOptions } from "./server_component.ts";
import type { ShutdownOptions } from "./shutdown.ts";
import { checkBuckets } from "./metrics.ts";
import { readTextFile } from "./_runtime.ts";

/** The configuration as written (JSON). */
export interface LifecycleConfigInput {
  /** Where and how the server listens (see {@linkcode ServerConfigInput}). */
  server?: ServerConfigInput;
  /** Operations endpoint paths, or `false` for none. */
  operations?: OperationsOptions | false;
  /** Shutdown timeouts and signals. */
  shutdown?: {
    /** See `ShutdownOptions.signals`. */
    signals?: string[];
    /** See `ShutdownOptions.timeoutMs`. */
    timeoutMs?: number;
    /** See `ShutdownOptions.drainTimeoutMs`. */
    drainTimeoutMs?: number;
    /** See `ShutdownOptions.flushTimeoutMs`. */
    flushTimeoutMs?: number;
  };
}

/** The `server` section. */
export interface ServerConfigInput {
  /** TCP port, 0 for any free one. */
  port?: number;
  /** Interface to bind. */
  hostname?: string;
  /** WebSocket endpoint path. */
  path?: string;
  /** See `ServerOptions.maxMessageBytes`. */
  maxMessageBytes?: number;
  /** See `ServerOptions.largeMessageBytes`. */
  largeMessageBytes?: number;
  /** See `ServerOptions.maxProtocolErrors`. */
  maxProtocolErrors?: number;
  /** See `ServerOptions.requestTimeoutMs`. */
  requestTimeoutMs?: number;
  /** See `ServerOptions.maxSubscriptionsPerConnection`. */
  maxSubscriptionsPerConnection?: number;
  /** See `ServerComponentOptions.drainTimeoutMs`. */
  drainTimeoutMs?: number;
  /** See `ServerComponentOptions.latencyBuckets`. */
  latencyBuckets?: number[];
}

/** The validated configuration, shaped for the lifecycle functions. */
export interface LifecycleConfig {
  /** Spread into {@linkcode serverComponent} (add `setup`, `create`). */
  server: ServerComponentOptions;
  /** Pass to {@linkcode installShutdown}. */
  shutdown: ShutdownOptions;
}

type Check = (value: unknown, key: string) => void;

function describe(value: unknown): string {
  return typeof value === "string" || Array.isArray(value) ? JSON.stringify(value) : String(value);
}

const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (value, key) => {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${key} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(
      `${key} must be ${
        max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
      }, got ${value}`,
    );
  }
};

const text = (pattern?: RegExp, hint?: string): Check => (value, key) => {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${key} must be a non-empty string, got ${describe(value)}`);
  }
  if (pattern && !pattern.test(value)) {
    throw new TypeError(`${key} must be ${hint}, got ${describe(value)}`);
  }
};

const path = text(/^\//, `a path starting with "/"`);
const pathOrFalse: Check = (value, key) => {
  if (value !== false) path(value, key);
};

const buckets: Check = (value, key) => {
  if (!Array.isArray(value)) throw new TypeError(`${key} must be an array, got ${describe(value)}`);
  checkBuckets(value as number[], key);
};

const signals: Check = (value, key) => {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${key} must be a non-empty array of signal names, got ${describe(value)}`);
  }
  value.forEach((s, i) =>
    text(/^SIG[A-Z0-9]+$/, `a signal name like "SIGTERM"`)(s, `${key}[${i}]`)
  );
};

function section(
  value: unknown,
  key: string,
  checks: Record<string, Check>,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${key} must be an object, got ${describe(value)}`);
  }
  for (const [k, v] of Object.entries(value)) {
    const check = checks[k];
    if (!check) {
      throw new TypeError(
        `${key}.${k} is not a known key (known: ${Object.keys(checks).join(", ")})`,
      );
    }
    if (v !== undefined) check(v, `${key}.${k}`);
  }
  return value as Record<string, unknown>;
}

const SERVER_KEYS = [
  "path",
  "maxMessageBytes",
  "largeMessageBytes",
  "maxProtocolErrors",
  "requestTimeoutMs",
  "maxSubscriptionsPerConnection",
] as const;

/**
 * Validates a configuration object and shapes it for {@linkcode serverComponent} and
 * {@linkcode installShutdown}.
 * @throws {TypeError} for a wrong type or unknown key, naming it; {RangeError} out of range.
 *
 * @example
 * ```ts
 * import { parseConfig } from "@sente-lite/sente-lite/lifecycle";
 *
 * const config = parseConfig({ server: { port: 3000 } });
 * console.log(config.server.port); // 3000
 * ```
 */
export function parseConfig(input: unknown, name?: string): LifecycleConfig {
  name ??= "config";
  const top = section(input, name, {
    server: () => {},
    operations: () => {},
    shutdown: () => {},
  });
  const server = section(top.server, `${name}.server`, {
    port: integer(0, 65535),
    hostname: text(),
    path,
    maxMessageBytes: integer(1),
    largeMessageBytes: integer(1),
    maxProtocolErrors: integer(1),
    requestTimeoutMs: integer(1),
    maxSubscriptionsPerConnection: integer(1),
    drainTimeoutMs: integer(0),
    latencyBuckets: buckets,
  });
  let operations: OperationsOptions | false | undefined;
  if (top.operations === false) operations = false;
  else {
    operations = section(top.operations, `${name}.operations`, {
      healthPath: pathOrFalse,
      readyPath: pathOrFalse,
      metricsPath: pathOrFalse,
      statsPath: pathOrFalse,
    }) as OperationsOptions;
  }
  const shutdown = section(top.shutdown, `${name}.shutdown`, {
    signals,
    timeoutMs: integer(1),
    drainTimeoutMs: integer(0),
    flushTimeoutMs: integer(0),
  }) as ShutdownOptions;
  const serverOptions: ServerOptions = {};
  for (const k of SERVER_KEYS) {
    if (server[k] !== undefined) (serverOptions as Record<string, unknown>)[k] = server[k];
  }
  const result: ServerComponentOptions = { server: serverOptions, operations };
  if (server.port !== undefined) result.port = server.port as number;
  if (server.hostname !== undefined) result.hostname = server.hostname as string;
  if (server.drainTimeoutMs !== undefined) result.drainTimeoutMs = server.drainTimeoutMs as number;
  if (server.latencyBuckets !== undefined) {
    result.latencyBuckets = server.latencyBuckets as number[];
  }
  return { server: result, shutdown: { ...shutdown } };
}

/**
 * Reads and validates a JSON configuration file, or validates an object.
 * @throws {TypeError} when the file is not JSON, or as {@linkcode parseConfig}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "@sente-lite/sente-lite/lifecycle";
 *
 * const config = await loadConfig("sente.json"); // or a URL, or a plain object
 * console.log(config.server);
 * ```
 */
export async function loadConfig(source: string | URL | object): Promise<LifecycleConfig> {
  if (typeof source === "object" && !(source instanceof URL)) return parseConfig(source);
  const file = source instanceof URL ? decodeURIComponent(source.pathname) : source;
  let raw: string;
  try {
    raw = await readTextFile(file);
  } catch (e) {
    throw new TypeError(`cannot read config file ${file}: ${(e as Error).message}`, { cause: e });
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (e) {
    throw new TypeError(`config file ${file} is not valid JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseConfig(data, file);
}
