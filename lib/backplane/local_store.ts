/**
 * The in-process delivery store: the same contract as the Redis store, in memory (what a single
 * node, or several nodes in one process, share). Ages are checked lazily on access, so it runs no
 * timers.
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
import { channelReplay, resolveStoreOptions, type StoreOptions } from "./store_options.ts";
import {
  formatResumeToken,
  newResumeToken,
  newSessionId,
  parseResumeToken,
} from "../protocol/resume_token.ts";
import { timingSafeEqual } from "../util/secret.ts";

interface Kept {
  uid: string;
  clientId: string;
  secret: string;
  previous: string | null;
  outSeq: number;
  inAck: number;
  messages: StoredMessage[];
  /** Payload bytes of `messages` (`maxSessionBytes`). */
  bytes: number;
  at: Attachment | null;
  /** The connection that detached it last (`evict` drops it only while that one parked it). */
  parkedBy?: Attachment;
  /** Channels kept while detached. */
  channels: Set<string>;
  /** When a detached session ends (clock ms); `Infinity` while attached. */
  until: number;
}

/** A channel's stream (channel sequences). */
interface Stream {
  base: number;
  n: number;
  messages: { n: number; payload: Payload; at: number }[];
  /** Payload bytes kept (`maxChannelBytes`). */
  bytes: number;
  /** When the last message was numbered (clock ms): the stream lives `2 × ttl` after it. */
  last: number;
}

interface Offline {
  messages: { payload: Payload; at: number }[];
  overflow: number;
  expired: number;
}

/**
 * Drops the oldest of `messages` (holding `bytes` of payload) while more than `max` or `maxBytes`
 * are kept, never the newest; returns the bytes kept.
 */
function trimOldest(
  messages: { payload: Payload }[],
  bytes: number,
  max: number,
  maxBytes: number,
): number {
  let drop = 0;
  while (messages.length - drop > 1 && (messages.length - drop > max || bytes > maxBytes)) {
    bytes -= messages[drop++].payload.length;
  }
  if (drop > 0) messages.splice(0, drop);
  return bytes;
}

/** An in-memory {@linkcode DeliveryStore}; `now` is the clock (ms). */
export class LocalStore implements DeliveryStore {
  /** Sessions by uid, then by session id (so `hold` visits only the uid's). */
  #sessions = new Map<string, Map<string, Kept>>();
  #offline = new Map<string, Offline>();
  /** channel → the sessions keeping it, as `[uid, session id]` by `uid\0sid`. */
  #keptBy = new Map<string, Map<string, [string, string]>>();
  #streams = new Map<string, Stream>();
  /**
   * channel → its stream's holders, as `[uid, session id]` by `uid\0sid`: sessions with channel
   * sequences; one holds while it lives and keeps the channel (pruned when found otherwise).
   */
  #holders = new Map<string, Map<string, [string, string]>>();
  #max: number;
  #ttl: number;
  #maxChannelBytes: number;
  #maxSessionBytes: number;

  /** Makes an empty store with these bounds. */
  constructor(options: StoreOptions = {}, readonly now: () => number = Date.now) {
    const o = resolveStoreOptions(options);
    this.#max = o.maxMessages;
    this.#ttl = o.ttlMs;
    this.#maxChannelBytes = o.maxChannelBytes;
    this.#maxSessionBytes = o.maxSessionBytes;
  }

  /** The live session, or `undefined` (an expired one is dropped here). */
  #get(uid: string, sessionId: string): Kept | undefined {
    const s = this.#sessions.get(uid)?.get(sessionId);
    if (s && s.until <= this.now()) {
      this.#delete(uid, sessionId);
      return undefined;
    }
    return s;
  }

  #delete(uid: string, sessionId: string): void {
    const ofUid = this.#sessions.get(uid);
    if (ofUid?.delete(sessionId) && ofUid.size === 0) this.#sessions.delete(uid);
  }

  #record(sessionId: string, s: Kept, keepChannels = false): SessionRecord {
    const token = newResumeToken(sessionId);
    s.previous = s.secret === "" ? null : s.secret;
    s.secret = token.secret;
    const channels = [...s.channels];
    if (!keepChannels) s.channels.clear();
    return {
      sessionId,
      token: formatResumeToken(token),
      outSeq: s.outSeq,
      inAck: s.inAck,
      channels,
    };
  }

  /** Makes a session attached to `at`. */
  create(uid: string, clientId: string, at: Attachment): Promise<SessionRecord> {
    const sessionId = newSessionId();
    const s: Kept = {
      uid,
      clientId,
      secret: "",
      previous: null,
      outSeq: 0,
      inAck: 0,
      messages: [],
      bytes: 0,
      at,
      channels: new Set(),
      until: Infinity,
    };
    let ofUid = this.#sessions.get(uid);
    if (!ofUid) this.#sessions.set(uid, ofUid = new Map());
    ofUid.set(sessionId, s);
    const record = this.#record(sessionId, s);
    s.previous = null;
    return Promise.resolve(record);
  }

  /** Opens the session `token` names when it matches. */
  open(
    uid: string,
    clientId: string,
    token: string,
    at: Attachment,
    options: OpenOptions = {},
  ): Promise<OpenResult> {
    const parsed = parseResumeToken(token);
    const s = parsed ? this.#get(uid, parsed.sessionId) : undefined;
    if (!parsed || !s) return Promise.resolve({ status: "unknown" });
    const current = timingSafeEqual(parsed.secret, s.secret);
    const previous = s.previous !== null && timingSafeEqual(parsed.secret, s.previous);
    if (!(current || previous) || s.clientId !== clientId) {
      return Promise.resolve({ status: "rejected" });
    }
    const superseded = s.at;
    s.at = at;
    s.until = Infinity;
    const record = this.#record(parsed.sessionId, s, options.keepChannels === true);
    s.previous = parsed.secret;
    return Promise.resolve({ status: "opened", session: record, superseded });
  }

  #append(s: Kept, payload: Payload): number {
    const seq = ++s.outSeq;
    s.messages.push({ seq, payload });
    // The oldest go first (a resume tells them as an `overflow` gap).
    s.bytes = trimOldest(s.messages, s.bytes + payload.length, this.#max, this.#maxSessionBytes);
    return seq;
  }

  /** Numbers and keeps `payload`; a missing session gets seq 0 (nothing kept). */
  append(uid: string, sessionId: string, payload: Payload): Promise<number> {
    const s = this.#get(uid, sessionId);
    return Promise.resolve(s ? this.#append(s, payload) : 0);
  }

  /** The kept messages after `afterSeq` and the count gone. */
  replay(uid: string, sessionId: string, afterSeq: number): Promise<Replay> {
    const s = this.#get(uid, sessionId);
    if (!s) return Promise.resolve({ messages: [], dropped: 0, outSeq: 0 });
    const messages = s.messages.filter((m) => m.seq > afterSeq);
    const first = messages[0]?.seq ?? s.outSeq + 1;
    const dropped = Math.max(0, first - Math.max(afterSeq, 0) - 1);
    return Promise.resolve({ messages, dropped, outSeq: s.outSeq });
  }

  /** Drops the messages through `seq`. */
  ack(uid: string, sessionId: string, seq: number): Promise<void> {
    const s = this.#get(uid, sessionId);
    if (s) {
      let n = 0;
      while (n < s.messages.length && s.messages[n].seq <= seq) {
        s.bytes -= s.messages[n++].payload.length;
      }
      if (n > 0) s.messages.splice(0, n);
    }
    return Promise.resolve();
  }

  /** Raises the inbound high-water mark. */
  markInbound(uid: string, sessionId: string, seq: number): Promise<number> {
    const s = this.#get(uid, sessionId);
    if (!s) return Promise.resolve(0);
    if (seq > s.inAck) s.inAck = seq;
    return Promise.resolve(s.inAck);
  }

  /** Starts the TTL, unless the session is attached elsewhere now. */
  detach(
    uid: string,
    sessionId: string,
    at: Attachment,
    channels: readonly string[] = [],
    options: KeepOptions = {},
  ): Promise<boolean> {
    const s = this.#get(uid, sessionId);
    if (!s?.at || !sameAttachment(s.at, at)) return Promise.resolve(false);
    s.at = null;
    s.parkedBy = at;
    s.until = this.now() + this.#ttl;
    s.channels = new Set(channels);
    // With channel sequences it replays the streams when it comes back: it holds them meanwhile.
    for (const channel of options.indexed === false ? channels : []) {
      this.#hold(channel, uid, sessionId);
    }
    for (const channel of options.indexed === false ? [] : channels) {
      let kept = this.#keptBy.get(channel);
      if (!kept) this.#keptBy.set(channel, kept = new Map());
      kept.set(`${uid}\u0000${sessionId}`, [uid, sessionId]);
    }
    return Promise.resolve(true);
  }

  /** Numbers into the detached sessions keeping `channel` (stale entries are pruned). */
  holdChannel(channel: string, payload: Payload, options: HoldOptions = {}): Promise<number> {
    const kept = this.#keptBy.get(channel);
    let n = 0;
    for (const [key, [uid, sessionId]] of kept ?? []) {
      const s = this.#get(uid, sessionId);
      if (!s || !s.channels.has(channel)) {
        kept!.delete(key);
        continue;
      }
      if (s.at !== null && !options.attached) continue;
      this.#append(s, payload);
      n++;
    }
    if (kept?.size === 0) this.#keptBy.delete(channel);
    return Promise.resolve(n);
  }

  /** Records an attached session's subscription (or its end). */
  keepChannel(
    uid: string,
    sessionId: string,
    channel: string,
    keep: boolean,
    options: KeepOptions = {},
  ): Promise<void> {
    const s = this.#get(uid, sessionId);
    if (!s) return Promise.resolve();
    if (!keep) {
      s.channels.delete(channel);
      // Out of the channel's index and holders at once: nothing else would drop a fresh name's.
      const key = `${uid}\u0000${sessionId}`;
      const kept = this.#keptBy.get(channel);
      if (kept?.delete(key) && kept.size === 0) this.#keptBy.delete(channel);
      this.#unhold(channel, key);
      return Promise.resolve();
    }
    s.channels.add(channel);
    if (options.indexed === false) {
      this.#keptBy.get(channel)?.delete(`${uid}\u0000${sessionId}`);
      return Promise.resolve();
    }
    let kept = this.#keptBy.get(channel);
    if (!kept) this.#keptBy.set(channel, kept = new Map());
    kept.set(`${uid}\u0000${sessionId}`, [uid, sessionId]);
    return Promise.resolve();
  }

  #hold(channel: string, uid: string, sessionId: string): void {
    let holders = this.#holders.get(channel);
    if (!holders) this.#holders.set(channel, holders = new Map());
    holders.set(`${uid}\u0000${sessionId}`, [uid, sessionId]);
  }

  #unhold(channel: string, key: string): void {
    const holders = this.#holders.get(channel);
    if (holders?.delete(key) && holders.size === 0) this.#holders.delete(channel);
  }

  /** Whether a live session keeping `channel` holds its stream (others are dropped). */
  #held(channel: string): boolean {
    const holders = this.#holders.get(channel);
    if (!holders) return false;
    for (const [key, [uid, sessionId]] of holders) {
      if (!this.#get(uid, sessionId)?.channels.has(channel)) holders.delete(key);
    }
    if (holders.size === 0) this.#holders.delete(channel);
    return holders.size > 0;
  }

  /** Numbers `payload` in `channel`'s stream (made when missing or past its lifetime). */
  appendChannel(
    channel: string,
    payload: Payload,
    options: AppendChannelOptions = {},
  ): Promise<number> {
    const now = this.now();
    if (options.held && !this.#held(channel)) return Promise.resolve(0);
    let st = this.#stream(channel, now);
    if (!st) {
      this.#streams.set(
        channel,
        st = { base: now * 1000, n: 0, messages: [], bytes: 0, last: now },
      );
    }
    st.last = now;
    st.messages.push({ n: ++st.n, payload, at: now });
    st.bytes = trimOldest(st.messages, st.bytes + payload.length, this.#max, this.#maxChannelBytes);
    return Promise.resolve(st.base + st.n);
  }

  /** The stream after `after`, with what is gone; `holder` holds it from now on. */
  channelSince(
    channel: string,
    after: number | null,
    holder?: StreamHolder,
  ): Promise<ChannelReplay> {
    if (holder) this.#hold(channel, holder.uid, holder.sessionId);
    const st = this.#stream(channel, this.now());
    if (!st) return Promise.resolve(channelReplay(0, 0, 0, after === null ? null : 0, []));
    const from = after === null || after > st.base + st.n ? 0 : Math.max(0, after - st.base);
    const messages = after === null ? [] : st.messages.filter((m) => m.n > from).map((m) => ({
      seq: st.base + m.n,
      payload: m.payload,
    }));
    return Promise.resolve(
      channelReplay(st.base, st.n, st.messages[0]?.n ?? 0, after, messages),
    );
  }

  /** The live stream of `channel` (expired messages and a stream past its lifetime dropped). */
  #stream(channel: string, now: number): Stream | undefined {
    const st = this.#streams.get(channel);
    if (!st) return undefined;
    if (st.last + 2 * this.#ttl <= now) {
      this.#streams.delete(channel);
      return undefined;
    }
    let k = 0;
    while (k < st.messages.length && st.messages[k].at + this.#ttl <= now) {
      st.bytes -= st.messages[k++].payload.length;
    }
    if (k > 0) st.messages.splice(0, k);
    return st;
  }

  /** Drops the session. */
  end(uid: string, sessionId: string): Promise<void> {
    const s = this.#sessions.get(uid)?.get(sessionId);
    for (const channel of s?.channels ?? []) this.#unhold(channel, `${uid}\u0000${sessionId}`);
    this.#delete(uid, sessionId);
    return Promise.resolve();
  }

  /** Drops the session if `at` parked it and nothing resumed it since. */
  evict(uid: string, sessionId: string, at: Attachment): Promise<number | null> {
    const s = this.#get(uid, sessionId);
    if (!s || s.at !== null || !s.parkedBy || !sameAttachment(s.parkedBy, at)) {
      return Promise.resolve(null);
    }
    this.#delete(uid, sessionId);
    for (const channel of s.channels) this.#unhold(channel, `${uid}\u0000${sessionId}`);
    return Promise.resolve(s.messages.length);
  }

  /** How long a detached session lives (ms). */
  get ttlMs(): number {
    return this.#ttl;
  }

  /** Numbers into detached sessions of `uid`, or keeps offline. */
  hold(
    uid: string,
    payload: Payload,
    offline: boolean,
    options: HoldOptions = {},
  ): Promise<HoldResult> {
    let sessions = 0;
    for (const [sessionId, s] of this.#sessions.get(uid) ?? []) {
      if (s.at !== null && !options.attached) continue;
      if (s.until <= this.now()) {
        this.#delete(uid, sessionId);
        continue;
      }
      this.#append(s, payload);
      sessions++;
    }
    if (sessions > 0 || !offline) return Promise.resolve({ sessions, buffered: false });
    let buf = this.#offline.get(uid);
    if (!buf) this.#offline.set(uid, buf = { messages: [], overflow: 0, expired: 0 });
    this.#expire(buf);
    buf.messages.push({ payload, at: this.now() });
    if (buf.messages.length > this.#max) {
      buf.overflow += buf.messages.length - this.#max;
      buf.messages.splice(0, buf.messages.length - this.#max);
    }
    return Promise.resolve({ sessions: 0, buffered: true });
  }

  #expire(buf: Offline): void {
    const cutoff = this.now() - this.#ttl;
    let n = 0;
    while (n < buf.messages.length && buf.messages[n].at <= cutoff) n++;
    if (n > 0) {
      buf.messages.splice(0, n);
      buf.expired += n;
    }
  }

  /** Takes the offline buffer. */
  drain(uid: string): Promise<OfflineDrain> {
    const buf = this.#offline.get(uid);
    if (!buf) return Promise.resolve({ messages: [], overflow: 0, expired: 0 });
    this.#expire(buf);
    this.#offline.delete(uid);
    return Promise.resolve({
      messages: buf.messages.map((m) => m.payload),
      overflow: buf.overflow,
      expired: buf.expired,
    });
  }
}

function sameAttachment(a: Attachment, b: Attachment): boolean {
  return a.nodeId === b.nodeId && a.connId === b.connId;
}
