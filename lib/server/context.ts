/**
 * The state every part of the Hub shares (upgrade, connections, inbound, router, fan-out,
 * resume): one {@linkcode ServerContext} made by the Hub. It holds data and the few answers they
 * all give (counting an error code, calling a hook, answering a bad frame); the behaviour lives in
 * the modules that use it.
 *
 * @module
 */
import type { ServerStreams } from "./streams.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { Scope } from "../telemetry/telemetry.ts";
import type { Clock } from "../util/clock.ts";
import { Admission } from "./admission.ts";
import { UpgradeRate } from "./upgrade_rate.ts";
import { ChannelRegistry } from "./channels.ts";
import type { Connection } from "./connection.ts";
import type { ResolvedServerOptions } from "./options.ts";
import type { ServerObserver, ServerStats } from "./types.ts";
import { type UidCrowd, UidRegistry } from "./uids.ts";
import { NIL_UID } from "./auth.ts";
import { emptyWireTotals } from "./wire.ts";
import { isPrivateBackplane } from "./backplane_option.ts";
import { Topics } from "./topics.ts";
import { randomHex } from "../util/ids.ts";
import { ConnectionMap } from "./connection_map.ts";
import { zeroDeliveryCounters } from "./session.ts";

/** Counters at start. */
function newStats(): ServerStats {
  return {
    connections: 0,
    pendingUpgrades: 0,
    uids: 0,
    channels: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    repliesIgnored: 0,
    largeMessages: 0,
    errors: {},
    bufferedBytes: 0,
    wire: emptyWireTotals(),
    queuedBytes: 0,
    fanOutsQueued: 0,
    droppedFrames: 0,
    slowConsumerCloses: 0,
    deliveryBytes: 0,
    unacknowledged: 0,
    ...zeroDeliveryCounters(),
  };
}

/** What the parts of one Hub share. */
export class ServerContext {
  /** The options in force. */
  readonly options: ResolvedServerOptions;
  /** `options.clock`. */
  readonly clock: Clock;
  /** The counters (`stats()` adds the live figures). */
  readonly stats: ServerStats = newStats();
  /** The library's own signals; free (one compare) while no telemetry handler listens. */
  readonly tel: Scope;
  /** Open connections by id, in the order they opened (lib/server/connection_map.ts). */
  readonly conns: ConnectionMap<Connection> = new ConnectionMap();
  /** This node's backplane topics (none for a server alone). */
  readonly topics: Topics;
  /** Connections by uid; the observable view is the cluster's. */
  readonly uids: UidRegistry<Connection>;
  /** Subscribers by channel. */
  readonly channels: ChannelRegistry<Connection>;
  /** The server-wide and per-IP connection counts, upgrades in progress included. */
  readonly admission: Admission;
  /** Upgrades per IP (`rateLimit.upgradesPerIp`). */
  readonly upgradeRate: UpgradeRate;
  /** Told when a connection joins or leaves a channel (durable delivery records it). */
  onChannelMember: ((channel: string, conn: Connection, joined: boolean) => void) | null = null;
  /** Streams (lib/server/streams.ts), set by the Hub. */
  streams: ServerStreams | null = null;
  /** Observers (metrics); replaced, never mutated, so a loop over it is safe. */
  observers: ServerObserver[] = [];

  /** Makes the shared state of a Hub. */
  constructor(options: ResolvedServerOptions) {
    this.options = options;
    this.clock = options.clock;
    this.tel = options.telemetry.scope("sente-lite.server");
    this.admission = new Admission(options, options.clock);
    this.upgradeRate = new UpgradeRate(this);
    const backplane = options.backplane;
    const alone = isPrivateBackplane(backplane);
    const topics = this.topics = new Topics(
      alone ? null : backplane,
      (e, where) => options.onError(e, { where }),
    );
    // Anonymous connections share NIL_UID: counted, listed from `conns` when asked.
    const conns = this.conns;
    const crowd: UidCrowd<Connection> = {
      uid: NIL_UID,
      *members() {
        for (const conn of conns.values()) if (conn.uid === NIL_UID) yield conn;
      },
    };
    this.uids = alone
      ? new UidRegistry<Connection>(null, null, crowd)
      : new UidRegistry<Connection>(
        backplane.presence,
        { first: (uid) => topics.retainUid(uid), last: (uid) => topics.releaseUid(uid) },
        crowd,
      );
    this.channels = new ChannelRegistry<Connection>(
      alone ? null : {
        first: (channel) => topics.retainChannel(channel),
        last: (channel) => topics.releaseChannel(channel),
        member: (channel, conn, joined) =>
          this.onChannelMember?.(channel, conn as Connection, joined),
      },
    );
  }

  /**
   * A new connection id. In a cluster it names this node (`<nodeId>.<random>`), so sends,
   * requests and closes by id reach the owning node without a lookup.
   */
  newConnId(): string {
    const id = randomHex(12);
    return this.topics.clustered ? `${this.options.backplane.nodeId}.${id}` : id;
  }

  /** Counts an error code in `stats().errors`. */
  count(code: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  /** Calls an application hook; what it throws goes to `onError`, never further. */
  hook(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.options.onError(e, { where });
    }
  }

  /** Calls `fn` for each observer, as a hook. */
  observe(fn: (observer: ServerObserver) => void): void {
    for (const o of this.observers) this.hook("observer", () => fn(o));
  }

  /** Sends an error event without counting it as the peer's fault. */
  sendError(conn: Connection, error: ProtocolError): void {
    const message = conn.dialect.errorMessage(error);
    if (message) conn.send(message);
  }

  /** Answers a bad frame: counted, limited to `maxProtocolErrors`, sent as an error event. */
  protocolError(conn: Connection, error: ProtocolError): void {
    if (error.fatal) return this.fatal(conn, error);
    this.count(error.code);
    this.tel.event("sente-lite/protocol-error", {
      level: "debug",
      data: () => ({ connId: conn.id, uid: conn.uid, code: error.code, message: error.message }),
    });
    if (++conn.protocolErrors > this.options.maxProtocolErrors) {
      return this.fatal(
        conn,
        new ProtocolError(
          "too-many-errors",
          `more than ${this.options.maxProtocolErrors} bad frames`,
        ),
      );
    }
    this.sendError(conn, error);
  }

  /** Closes the connection with the error's close code (1008 by default). */
  fatal(conn: Connection, error: ProtocolError): void {
    this.count(error.code);
    this.tel.event("sente-lite/protocol-error", {
      level: "warn",
      data: () => ({ connId: conn.id, uid: conn.uid, code: error.code, close: error.closeCode }),
    });
    conn.close(error.closeCode ?? 1008, `${error.code}: ${error.message}`.slice(0, 120));
  }
}
