/**
 * Durable delivery's side of an upgrade (lib/server/durable.ts): the resume session a client
 * asks for is opened in the shared store — or a new one made — before the handshake, and what the
 * handshake tells the client (`resumed`, `gap`, `ack`, `seq`, the new token) is worked out here.
 *
 * @module
 */
import type { Attachment, DeliveryStore, OfflineDrain } from "../backplane/backplane.ts";
import type { ResumeGap, ResumeState } from "../protocol/handshake.ts";
import type { TimerHandle } from "../util/clock.ts";
import type { DeliveryCounters } from "./delivery.ts";
import type { PendingUpgrade } from "./socket.ts";
import { BROADCAST_STREAM } from "./channel_log.ts";

/** What the upgrade found in the store, for `open`. */
export interface Prepared {
  /** The attachment id of the connection to come (`<nodeId>.<random>`). */
  attachId: string;
  /** The session, or `null` when the client does not resume (or the store failed). */
  sessionId: string | null;
  /** The session's new token. */
  token: string | null;
  /** What the handshake says. */
  state: ResumeState | null;
  /** Channels the session kept: the new connection subscribes to them. */
  channels: string[];
  /** The offered token named a session but did not match it. */
  rejected: boolean;
  /** Channel sequences: the broadcast number the connection continues after, else `null`. */
  broadcastAfter?: number | null;
  /** The uid's offline buffer, taken. */
  offline: OfflineDrain | null;
  /** Detaches the session if the upgrade never opens. */
  timer?: TimerHandle;
}

/**
 * Opens the session `pending` offers (superseding its previous attachment), or makes a new one,
 * and fills `p`. The client learns `resumed: true` only when everything after its last seq is
 * still in the store.
 */
export async function openSession(
  store: DeliveryStore,
  stats: DeliveryCounters,
  pending: PendingUpgrade,
  p: Prepared,
  at: Attachment,
  supersede: (old: Attachment) => void,
): Promise<void> {
  const { uid, clientId } = pending;
  const lastSeq = pending.resume ?? 0;
  const token = pending.resumeToken ?? null;
  const opened = token === null
    ? { status: "unknown" as const }
    : await store.open(uid, clientId, token, at, {
      keepChannels: true,
      holdStreams: pending.channelSeq !== undefined,
    });
  if (opened.status === "opened") {
    const s = opened.session;
    const old = opened.superseded;
    if (old) supersede(old);
    let seq = lastSeq;
    let gap: ResumeGap | null = null;
    if (lastSeq > s.outSeq) {
      seq = s.outSeq; // the client counts from another session: nothing here continues it
      gap = { reason: "unknown", dropped: null };
    } else {
      await store.ack(uid, s.sessionId, lastSeq);
      const r = await store.replay(uid, s.sessionId, lastSeq);
      if (r.dropped > 0) gap = { reason: "overflow", dropped: r.dropped };
      seq = lastSeq + r.dropped;
    }
    if (gap === null) stats.resumed++;
    else stats.resumeFailed++;
    p.sessionId = s.sessionId;
    p.token = s.token;
    p.channels = [...s.channels];
    p.state = { resumed: gap === null, gap, ack: s.inAck, seq, token: s.token };
    return;
  }
  p.rejected = opened.status === "rejected";
  const s = await store.create(uid, clientId, at);
  const gap = lastSeq > 0 || token !== null ? { reason: "unknown", dropped: null } : null;
  if (gap) stats.resumeFailed++;
  p.sessionId = s.sessionId;
  p.token = s.token;
  p.state = { resumed: false, gap, ack: 0, seq: 0, token: s.token };
}

/**
 * Channel sequences: where the connection's broadcasts continue (the handshake's `cseq`): after
 * the client's cursor when its token found the session (a replay proves nothing else), else
 * after the broadcast stream's number now.
 */
export async function broadcastStart(
  store: DeliveryStore,
  pending: PendingUpgrade,
  p: Prepared,
): Promise<void> {
  if (pending.channelSeq === undefined || p.state === null) return;
  const { resumed, gap } = p.state;
  const found = resumed || (gap !== null && gap.reason !== "unknown");
  const now = (await store.channelSince(BROADCAST_STREAM, null)).current;
  const cursor = pending.channelSeq;
  p.broadcastAfter = found && cursor !== null && cursor <= now ? cursor : now;
  p.state.cseq = p.broadcastAfter;
}
