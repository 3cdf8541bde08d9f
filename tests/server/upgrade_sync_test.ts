import assert from "node:assert/strict";
import { splitUrl } from "../../lib/server/upgrade.ts";
import { Hub } from "../../lib/server/hub.ts";

Deno.test("splitUrl() reads path and query like URL does", () => {
  for (
    const url of [
      "http://127.0.0.1:8080/chsk?client-id=a&packer=json",
      "http://h/chsk",
      "http://h",
      "http://h/?x=1",
      "http://h/chsk#frag",
      "http://h/chsk?a=1#frag",
      "http://h/a/%63hsk?x",
      "http://h/a/../chsk?y=2",
      "http://[::1]:80/chsk?z",
    ]
  ) {
    const u = new URL(url);
    assert.deepEqual(splitUrl(url), { path: u.pathname, query: u.search.slice(1) }, url);
  }
});

Deno.test("Hub.prepareNow() answers in the same turn unless a hook returns a promise", async () => {
  const req = () =>
    new Request("http://127.0.0.1/chsk?client-id=a&packer=json", {
      headers: { upgrade: "websocket" },
    });
  const sync = new Hub({ authenticate: () => "alice" });
  const now = sync.prepareNow(req());
  assert.ok(!(now instanceof Promise) && !(now instanceof Response));
  assert.equal(now.uid, "alice");
  now.slot?.release(sync.options.clock);
  assert.ok(!(sync.prepareNow(new Request("http://127.0.0.1/nope")) instanceof Promise));

  const async_ = new Hub({ authenticate: () => Promise.resolve("bob") });
  const later = async_.prepareNow(req());
  assert.ok(later instanceof Promise);
  const done = await later;
  assert.ok(!(done instanceof Response));
  assert.equal(done.uid, "bob");
  done.slot?.release(async_.options.clock);

  const failing = new Hub({
    authenticate: () => Promise.reject(new Error("x")),
    onError: () => {},
  });
  const refused = await failing.prepareNow(req());
  assert.ok(refused instanceof Response);
  assert.equal(refused.status, 500);
  assert.equal(failing.stats().pendingUpgrades, 0); // the slot went back
});
