/** `authorizeChannel` gets `uid`, `clientId` and `connId` at the top, as event messages do. */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import type { ChannelAuthorization } from "../../server.ts";
import { startServer } from "../_server.ts";

Deno.test("authorizeChannel: uid, clientId and connId at the top, and the connection", async () => {
  const asked: ChannelAuthorization[] = [];
  await using t = await startServer({
    authenticate: () => "alice",
    authorizeChannel: (request) => {
      asked.push(request);
      return request.channel !== "secret";
    },
  });
  const client = connect(t.url, { clientId: "client-1" });
  try {
    await client.ready;
    await client.subscribe("lobby", () => {});
    await assert.rejects(client.publish("secret", 1));
    const [conn] = t.server.connections();
    assert.equal(asked.length, 2);
    for (const request of asked) {
      assert.equal(request.uid, "alice");
      assert.equal(request.clientId, "client-1");
      assert.equal(request.connId, conn.id);
      assert.deepEqual(
        [request.connection.id, request.connection.uid, request.connection.clientId],
        [conn.id, "alice", "client-1"],
      );
    }
    assert.deepEqual(asked.map((r) => [r.action, r.channel]), [
      ["subscribe", "lobby"],
      ["publish", "secret"],
    ]);
  } finally {
    client.close();
  }
});
