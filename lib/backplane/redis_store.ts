/**
 * The Redis delivery store: resume sessions as a hash plus a stream each, offline buffers as a
 * stream per uid (see `redis_scripts.ts` for the key layout). Every operation is one Lua script,
 * so it is atomic; a session attached on this node has its TTL refreshed every `ttlMs / 3`, so it
 * outlives its connection (or this node's death) by at most `ttlMs`.
 *
 * @module
 */
import type {
  AppendChannelOptions,
  Attachment,
  ChannelReplay,
  DeliveryStore,
  HoldOptions,
  HoldResult,
  KeepOptions,
  OfflineDrain,
  OpenOptions,
  OpenResult,
  Payload,
  Replay,
  SessionRecord,
  StoredMessage,
  StreamHolder,
} from "./backplane.ts";
import * as S from "./redis_scripts.ts";
import { channelReplay } from "./store_options.ts";
import {
  formatResumeToken,
  newResumeToken,
  newSessionId,
  parseResumeToken,
  SESSION_ID_LENGTH,
} from "../protocol/resume_token.ts";

/** What the store needs from a Redis connection. */
export interface ScriptRunner {
  /** Runs a Lua script (cached by its SHA-1 on the server). */
  run(script: string, keys: string[], args: (string | number)[]): Promise<unknown>;
  /** Sends one command. */
  command(args: string[]): Promise<unknown>;
  /** Resolves once what was sent so far is written to the connection. */
  written?(): Promise<void>;
}

/** The SHA-256 of a secret, hex: what the store keeps instead of the secret. */
async function digest(secret: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  let hex = "";
  for (const b of new Uint8Array(hash)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

function attachment(at: Attachment): string {
  return `${at.nodeId}|${at.connId}`;
}

function parseAttachment(value: unknown): Attachment | null {
  if (typeof value !== "string" || value === "") return null;
  const bar = value.indexOf("|");
  return { nodeId: value.slice(0, bar), connId: value.slice(bar + 1) };
}

/** A {@linkcode DeliveryStore} on Redis. */
export class RedisStore implements DeliveryStore {
  /** `channels`: indexed kept channels; `streams`: channel streams it holds (channel sequences). */
  #attached = new Map<
    string,
    { uid: string; sessionId: string; channels: Set<string>; streams: Set<string> }
  >();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `prefix` heads every key; `max`/`ttlMs` are the store bounds. */
  constructor(
    readonly redis: ScriptRunner,
    readonly prefix: string,
    readonly max: number,
    readonly ttlMs: number,
    readonly maxChannelBytes: number = 1024 * 1024,
    readonly maxSessionBytes: number = 1024 * 1024,
  ) {}

  /** The hash-tagged head of every key of `uid` (escaped: a uid cannot forge another's keys). */
  #head(uid: string): string {
    return `${this.prefix}:{u:${encodeURIComponent(uid)}}`;
  }

  #keys(
    uid: string,
    sessionId: string,
  ): { index: string; meta: string; stream: string; channels: string } {
    const h = this.#head(uid);
    return {
      index: `${h}:s`,
      meta: `${h}:s:${sessionId}`,
      stream: `${h}:q:${sessionId}`,
      channels: `${h}:c:${sessionId}`,
    };
  }

  /** The index of the detached sessions keeping `channel` (in the channel's own slot). */
  #keptBy(channel: string): string {
    return `${this.prefix}:{c:${encodeURIComponent(channel)}}:k`;
  }

  /** The keys of `channel`'s stream (channel sequences): meta, log, holders; in its slot. */
  #streamKeys(channel: string): [string, string, string] {
    const h = `${this.prefix}:{c:${encodeURIComponent(channel)}}`;
    return [`${h}:m`, `${h}:l`, `${h}:h`];
  }

  /** `holder` holds `channel`'s stream for `ttlMs` from now (best effort: refreshed again). */
  #holdStream(channel: string, holder: StreamHolder): Promise<unknown> {
    return this.redis.run(S.HOLD_STREAM, [this.#streamKeys(channel)[2]], [
      holder.sessionId + holder.uid,
      this.ttlMs,
    ]);
  }

  async appendChannel(
    channel: string,
    payload: Payload,
    options: AppendChannelOptions = {},
  ): Promise<number> {
    const res = await this.redis.run(S.APPEND_CHANNEL, this.#streamKeys(channel), [
      payload,
      this.max,
      this.ttlMs,
      this.maxChannelBytes,
      options.held ? "1" : "0",
    ]) as unknown[];
    return Number(res[0]) + Number(res[1]);
  }

  async channelSince(
    channel: string,
    after: number | null,
    holder?: StreamHolder,
  ): Promise<ChannelReplay> {
    const keys = this.#streamKeys(channel);
    const member = holder ? holder.sessionId + holder.uid : "";
    if (holder) this.#attached.get(`${holder.uid}\u0000${holder.sessionId}`)?.streams.add(channel);
    // The stream's base is read in the same script: ask from after − base + 1 on a second try.
    const probe = await this.redis.run(S.CHANNEL_SINCE, keys, [
      0,
      0,
      member,
      this.ttlMs,
    ]) as unknown[];
    if (probe[0] === "") return channelReplay(0, 0, 0, after === null ? null : 0, []);
    const base = Number(probe[0]);
    const n = Number(probe[1]);
    if (after === null) return channelReplay(base, n, Number(probe[2]), null, []);
    const from = after > base + n ? 1 : Math.max(0, after - base) + 1;
    const res = await this.redis.run(S.CHANNEL_SINCE, keys, [
      from,
      this.max + 1000,
      "",
      0,
    ]) as unknown[];
    if (res[0] === "" || Number(res[0]) !== base) return this.channelSince(channel, after);
    const messages: StoredMessage[] = [];
    for (let i = 3; i < res.length; i += 2) {
      messages.push({ seq: base + Number(res[i]), payload: String(res[i + 1]) });
    }
    return channelReplay(base, Number(res[1]), Number(res[2]), after, messages);
  }

  /** Keeps refreshing the TTL of a session attached here. */
  #hold(uid: string, sessionId: string): void {
    const key = `${uid}\u0000${sessionId}`;
    if (!this.#attached.has(key)) {
      this.#attached.set(key, { uid, sessionId, channels: new Set(), streams: new Set() });
    }
    this.#timer ??= setInterval(() => this.#touch(), Math.max(1, Math.floor(this.ttlMs / 3)));
    // Refreshing must not keep a process alive that has nothing else to do.
    if (typeof this.#timer === "number") Deno.unrefTimer(this.#timer);
    else (this.#timer as { unref?: () => void }).unref?.();
  }

  #release(uid: string, sessionId: string): void {
    this.#attached.delete(`${uid}\u0000${sessionId}`);
    if (this.#attached.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #touch(): void {
    const ttl = String(this.ttlMs);
    for (const { uid, sessionId, channels, streams } of this.#attached.values()) {
      const k = this.#keys(uid, sessionId);
      const indexes = [...channels].map((c) => this.#keptBy(c));
      // Best effort: a failure (Redis down) is retried at the next tick, well inside the TTL.
      for (const key of [k.meta, k.stream, k.index, k.channels, ...indexes]) {
        this.redis.command(["PEXPIRE", key, ttl]).catch(() => {});
      }
      for (const c of streams) this.#holdStream(c, { uid, sessionId }).catch(() => {});
    }
  }

  /** Stops refreshing (the node leaves); sessions then expire after `ttlMs`. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#attached.clear();
  }

  async create(uid: string, clientId: string, at: Attachment): Promise<SessionRecord> {
    const sessionId = newSessionId();
    const token = newResumeToken(sessionId);
    const k = this.#keys(uid, sessionId);
    await this.redis.run(S.CREATE, [k.index, k.meta], [
      sessionId,
      clientId,
      await digest(token.secret),
      attachment(at),
      this.ttlMs,
    ]);
    this.#hold(uid, sessionId);
    return { sessionId, token: formatResumeToken(token), outSeq: 0, inAck: 0, channels: [] };
  }

  async open(
    uid: string,
    clientId: string,
    token: string,
    at: Attachment,
    options: OpenOptions = {},
  ): Promise<OpenResult> {
    const parsed = parseResumeToken(token);
    if (!parsed) return { status: "unknown" };
    const next = newResumeToken(parsed.sessionId);
    const k = this.#keys(uid, parsed.sessionId);
    const res = await this.redis.run(S.OPEN, [k.index, k.meta, k.stream, k.channels], [
      parsed.sessionId,
      clientId,
      await digest(parsed.secret),
      await digest(next.secret),
      attachment(at),
      this.ttlMs,
      options.keepChannels ? "1" : "0",
    ]) as unknown[];
    if (res[0] !== "opened") return { status: res[0] === "rejected" ? "rejected" : "unknown" };
    this.#hold(uid, parsed.sessionId);
    const channels = res.slice(4).map(String);
    if (options.holdStreams) {
      // Held since it parked, for `ttlMs` from then: held on from now (refreshed while attached).
      const holder = { uid, sessionId: parsed.sessionId };
      for (const c of channels) {
        this.#attached.get(`${uid}\u0000${parsed.sessionId}`)?.streams.add(c);
        this.#holdStream(c, holder).catch(() => {}); // best effort, as the refresh
      }
    }
    return {
      status: "opened",
      session: {
        sessionId: parsed.sessionId,
        token: formatResumeToken(next),
        outSeq: Number(res[1]),
        inAck: Number(res[2]),
        channels,
      },
      superseded: parseAttachment(res[3]),
    };
  }

  async append(uid: string, sessionId: string, payload: Payload): Promise<number> {
    const k = this.#keys(uid, sessionId);
    return Number(
      await this.redis.run(S.APPEND, [k.meta, k.stream], [payload, this.max, this.maxSessionBytes]),
    );
  }

  async replay(uid: string, sessionId: string, afterSeq: number): Promise<Replay> {
    const k = this.#keys(uid, sessionId);
    const from = Math.max(0, Math.floor(afterSeq)) + 1;
    const res = await this.redis.run(S.REPLAY, [k.meta, k.stream], [
      from,
      this.max + 1000,
    ]) as unknown[];
    const outSeq = Number(res[0]);
    if (outSeq < 0) return { messages: [], dropped: 0, outSeq: 0 };
    const messages: StoredMessage[] = [];
    for (let i = 1; i < res.length; i += 2) {
      messages.push({ seq: Number(res[i]), payload: String(res[i + 1]) });
    }
    const first = messages[0]?.seq ?? outSeq + 1;
    return { messages, dropped: Math.max(0, first - from), outSeq };
  }

  async ack(uid: string, sessionId: string, seq: number): Promise<void> {
    const k = this.#keys(uid, sessionId);
    await this.redis.command(["XTRIM", k.stream, "MINID", `${Math.floor(seq) + 1}-0`]);
  }

  async markInbound(uid: string, sessionId: string, seq: number): Promise<number> {
    const k = this.#keys(uid, sessionId);
    return Number(await this.redis.run(S.MARK_INBOUND, [k.meta], [Math.floor(seq)]));
  }

  written(): Promise<void> {
    return this.redis.written?.() ?? Promise.resolve();
  }

  async detach(
    uid: string,
    sessionId: string,
    at: Attachment,
    channels: readonly string[] = [],
    options: KeepOptions = {},
  ): Promise<boolean> {
    this.#release(uid, sessionId);
    const k = this.#keys(uid, sessionId);
    const h = this.#head(uid);
    const keys = [k.meta, k.stream, k.channels, k.index, `${h}:sx`];
    const detached = await this.redis.run(S.DETACH, keys, [
      attachment(at),
      this.ttlMs,
      `${h}:s:`,
      ...channels,
    ]);
    if (Number(detached) !== 1) return false;
    if (options.indexed === false) {
      // Parked with channel sequences: it replays the streams when it comes back, so it holds
      // them as long as it lives (`ttlMs`). Best effort: it is parked whatever happens here.
      const holder = { uid, sessionId };
      await Promise.all(channels.map((c) => this.#holdStream(c, holder).catch(() => {})));
      return true;
    }
    const member = sessionId + uid;
    await Promise.all(channels.map(async (channel) => {
      const index = this.#keptBy(channel);
      await this.redis.command(["SADD", index, member]);
      await this.redis.command(["PEXPIRE", index, String(this.ttlMs)]);
    }));
    return true;
  }

  async keepChannel(
    uid: string,
    sessionId: string,
    channel: string,
    keep: boolean,
    options: KeepOptions = {},
  ): Promise<void> {
    const k = this.#keys(uid, sessionId);
    const attached = this.#attached.get(`${uid}\u0000${sessionId}`);
    const ttl = String(this.ttlMs);
    if (!keep) {
      attached?.channels.delete(channel);
      attached?.streams.delete(channel);
      // Out of the channel's index and its stream's holders at once (each key goes with its last
      // member): left to lazy pruning, a subscribe/unsubscribe loop over fresh channel names
      // would leave a key per name for `ttlMs`.
      await Promise.all([
        this.redis.command(["SREM", k.channels, channel]),
        this.redis.command(["SREM", this.#keptBy(channel), sessionId + uid]),
        this.redis.command(["ZREM", this.#streamKeys(channel)[2], sessionId + uid]),
      ]);
      return;
    }
    if (options.indexed === false) {
      await Promise.all([
        this.redis.command(["SADD", k.channels, channel]),
        this.redis.command(["PEXPIRE", k.channels, ttl]),
        // Kept by an older connection of the session without channel sequences: not any more.
        this.redis.command(["SREM", this.#keptBy(channel), sessionId + uid]),
      ]);
      return;
    }
    attached?.channels.add(channel);
    const index = this.#keptBy(channel);
    await Promise.all([
      this.redis.command(["SADD", k.channels, channel]),
      this.redis.command(["PEXPIRE", k.channels, ttl]),
      this.redis.command(["SADD", index, sessionId + uid]),
      this.redis.command(["PEXPIRE", index, ttl]),
    ]);
  }

  async holdChannel(channel: string, payload: Payload, options: HoldOptions = {}): Promise<number> {
    const index = this.#keptBy(channel);
    const members = await this.redis.command(["SMEMBERS", index]) as string[];
    const seqs = await Promise.all(members.map((member) => {
      const k = this.#keys(member.slice(SESSION_ID_LENGTH), member.slice(0, SESSION_ID_LENGTH));
      return this.redis.run(S.APPEND_KEPT, [k.meta, k.stream, k.channels], [
        payload,
        this.max,
        channel,
        options.attached ? "1" : "0",
        this.maxSessionBytes,
      ]);
    }));
    const stale = members.filter((_, i) => Number(seqs[i]) === -1);
    if (stale.length > 0) await this.redis.command(["SREM", index, ...stale]);
    return seqs.filter((seq) => Number(seq) > 0).length;
  }

  async end(uid: string, sessionId: string): Promise<void> {
    this.#release(uid, sessionId);
    const k = this.#keys(uid, sessionId);
    await this.redis.command(["DEL", k.meta, k.stream, k.channels]);
    await this.redis.command(["HDEL", k.index, sessionId]);
  }

  async evict(uid: string, sessionId: string, at: Attachment): Promise<number | null> {
    this.#release(uid, sessionId);
    const k = this.#keys(uid, sessionId);
    const res = await this.redis.run(S.EVICT, [k.meta, k.stream, k.channels, k.index], [
      attachment(at),
      sessionId,
    ]) as unknown[];
    const n = Number(res[0]);
    if (n < 0) return null;
    // An evicted session no longer holds the streams of the channels it kept.
    await Promise.all(
      res.slice(1).map((c) =>
        this.redis.command(["ZREM", this.#streamKeys(String(c))[2], sessionId + uid])
      ),
    );
    return n;
  }

  async hold(
    uid: string,
    payload: Payload,
    offline: boolean,
    options: HoldOptions = {},
  ): Promise<HoldResult> {
    const h = this.#head(uid);
    const res = await this.redis.run(S.HOLD, [`${h}:s`, `${h}:o`, `${h}:oc`], [
      payload,
      offline ? "1" : "0",
      this.max,
      this.ttlMs,
      `${h}:s:`,
      `${h}:q:`,
      options.attached ? "1" : "0",
      this.maxSessionBytes,
    ]) as unknown[];
    return { sessions: Number(res[0]), buffered: Number(res[1]) === 1 };
  }

  async drain(uid: string): Promise<OfflineDrain> {
    const h = this.#head(uid);
    const res = await this.redis.run(S.DRAIN, [`${h}:o`, `${h}:oc`], [
      this.max,
      this.ttlMs,
    ]) as unknown[];
    return {
      overflow: Number(res[0]),
      expired: Number(res[1]),
      messages: res.slice(2).map(String),
    };
  }
}
