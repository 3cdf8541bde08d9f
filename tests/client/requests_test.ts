import assert from "node:assert/strict";
import {
  cbNumber,
  noSettler,
  Pending,
  PendingRequests,
  promiseOf,
} from "../../lib/client/requests.ts";
import { ClosedError, ServerError, TimeoutError } from "../../lib/protocol/errors.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

/** Adds a request of `id` that times out after `timeoutMs`; returns it and how it settled. */
function request(
  clock: VirtualClock,
  requests: PendingRequests,
  id: string,
  timeoutMs: number,
  extra: { retry?: boolean; signal?: AbortSignal } = {},
) {
  const key = requests.next();
  const outcome: { value?: unknown; error?: unknown } = {};
  const p = new Pending(
    id,
    key.toString(36),
    key,
    id,
    timeoutMs,
    clock.now() + timeoutMs,
    extra.retry ?? false,
    extra.signal,
    (value) => void (outcome.value = value),
    (error) => void (outcome.error = error),
  );
  requests.add(p);
  return { p, outcome };
}

Deno.test("cbNumber() reads only the base-36 spelling toString(36) writes", () => {
  assert.equal(cbNumber("0"), 0);
  assert.equal(cbNumber("a"), 10);
  assert.equal(cbNumber((123456789).toString(36)), 123456789);
  for (const cb of ["", "0a", "A", " a", "-1", "1.5", "~a", "zzzzzzzzzzz"]) {
    assert.equal(cbNumber(cb), -1, cb);
  }
});

Deno.test("PendingRequests.settle() resolves the request its callback id names, once", () => {
  const clock = new VirtualClock();
  const requests = new PendingRequests(clock);
  const a = request(clock, requests, "demo/a", 1000);
  assert.equal(requests.settle("0", "reply"), true);
  assert.equal(a.outcome.value, "reply");
  assert.equal(a.p.cancelled, true);
  assert.equal(requests.settle("0", "again"), false);
  assert.equal(clock.pending, 0, "no timer left once nothing is pending");
});

Deno.test("PendingRequests.settle() rejects on chsk/timeout, chsk/closed and chsk/error", () => {
  const clock = new VirtualClock();
  const requests = new PendingRequests(clock);
  const rs = [1, 2, 3].map(() => request(clock, requests, "demo/x", 1000));
  requests.settle("0", "chsk/timeout");
  requests.settle("1", "chsk/closed");
  requests.settle("2", "chsk/error");
  assert.ok(rs[0].outcome.error instanceof TimeoutError);
  assert.ok(rs[1].outcome.error instanceof ClosedError);
  assert.ok(rs[2].outcome.error instanceof ServerError);
});

Deno.test("PendingRequests rejects with TimeoutError at each deadline, on one timer", () => {
  const clock = new VirtualClock();
  const requests = new PendingRequests(clock);
  const slow = request(clock, requests, "demo/slow", 300);
  const fast = request(clock, requests, "demo/fast", 100);
  assert.equal(clock.pending, 1);
  clock.tick(100);
  assert.ok(fast.outcome.error instanceof TimeoutError);
  assert.match((fast.outcome.error as Error).message, /demo\/fast within 100 ms/);
  assert.equal(slow.outcome.error, undefined);
  clock.tick(200);
  assert.ok((slow.outcome.error as unknown) instanceof TimeoutError);
  assert.equal(clock.pending, 0);
});

Deno.test("PendingRequests rejects with the abort reason and forgets the request", () => {
  const clock = new VirtualClock();
  const requests = new PendingRequests(clock);
  const ac = new AbortController();
  const r = request(clock, requests, "demo/a", 1000, { signal: ac.signal });
  ac.abort(new Error("stop"));
  assert.equal((r.outcome.error as Error).message, "stop");
  assert.equal(requests.get("0"), undefined);
  assert.equal(clock.pending, 0);
});

Deno.test("PendingRequests.lost() returns the sent requests that retry and rejects the others", () => {
  const clock = new VirtualClock();
  const requests = new PendingRequests(clock);
  const retried = request(clock, requests, "demo/a", 1000, { retry: true });
  const failed = request(clock, requests, "demo/b", 1000);
  const unsent = request(clock, requests, "demo/c", 1000);
  retried.p.sent = failed.p.sent = true;
  const error = new ClosedError("lost");
  assert.deepEqual(requests.lost(error), [retried.p]);
  assert.equal(retried.p.sent, false);
  assert.equal(failed.outcome.error, error);
  assert.equal(unsent.outcome.error, undefined);
  requests.rejectAll(error);
  assert.equal(retried.outcome.error as unknown, error);
  assert.equal(unsent.outcome.error as unknown, error);
  assert.equal(clock.pending, 0);
});

Deno.test("promiseOf() keeps the settlers of each request's own promise on the request", async () => {
  const make = (key: number) =>
    new Pending(
      "f",
      key.toString(36),
      key,
      "demo/x",
      1000,
      1000,
      false,
      undefined,
      noSettler,
      noSettler,
    );
  const a = make(0), b = make(1);
  const pa = promiseOf(a), pb = promiseOf(b);
  assert.ok(pa !== pb && a.resolve !== noSettler && a.resolve !== b.resolve);
  b.reject(new Error("b failed"));
  a.resolve("a done");
  assert.equal(await pa, "a done");
  await assert.rejects(pb, /b failed/);
});
