import assert from "node:assert/strict";
import { signalCacheKey, skipUpgradeAbort } from "../../lib/adapters/deno_upgrade_abort.ts";
import { startServer } from "../_server.ts";

/** Connects, waits for the handshake, closes; resolves once closed. */
async function connectOnce(url: string): Promise<void> {
  const ws = new WebSocket(`${url}?client-id=c1&packer=json`);
  const first = await new Promise<string>((resolve, reject) => {
    ws.onmessage = (e) => resolve(e.data);
    ws.onerror = () => reject(new Error("upgrade failed"));
  });
  assert.match(first, /^\[\["chsk\/handshake"/);
  ws.close();
  await new Promise((r) => ws.onclose = r);
}

Deno.test("this Deno's Request has the signal record skipUpgradeAbort clears (else it does nothing)", () => {
  // A canary: if a Deno release renames the field, the saving is gone and this says so.
  const key = signalCacheKey(new Request("http://127.0.0.1/"));
  assert.ok(key !== null, "Request has no own symbol described signalCache");
  // A request nobody closed has no record yet: nothing to clear.
  assert.equal(skipUpgradeAbort(new Request("http://127.0.0.1/")), false);
});

Deno.test("an upgrade through Deno.serve makes no abort signal (and no DOMException)", async () => {
  const requests: Request[] = [];
  await using t = await startServer({
    authenticate: (request) => {
      requests.push(request); // kept, never read: as with no hook at all
      return null;
    },
  });
  await connectOnce(t.url);
  assert.equal(requests.length, 1);
  const request = requests[0];
  const key = signalCacheKey(request)!;
  // Deno closed the request twice; without the fix the second close made an AbortSignal here
  // and aborted it with a new DOMException.
  const record = (request as unknown as Record<symbol, unknown>)[key];
  assert.equal(record, false, `expected no signal, found ${String(record)}`);
  // Read afterwards, the signal still says the request is over.
  assert.equal(request.signal.aborted, true);
  assert.equal((request.signal.reason as DOMException).name, "AbortError");
});

Deno.test("a signal a hook read before the upgrade still aborts with its DOMException", async () => {
  const reasons: unknown[] = [];
  await using t = await startServer({
    authenticate: (request) => {
      request.signal.addEventListener("abort", () => reasons.push(request.signal.reason));
      return null;
    },
  });
  await connectOnce(t.url);
  assert.equal(reasons.length, 1);
  assert.ok(reasons[0] instanceof DOMException);
  assert.equal((reasons[0] as DOMException).name, "AbortError");
});
