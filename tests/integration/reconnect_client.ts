/**
 * A client process of the reconnect tests, for Deno and Bun alike:
 * `<runtime> reconnect_client.ts <ws-url> <name> [channel]`. It subscribes to the channel,
 * publishes `{ from: name, epoch }` there every 150 ms while open (`epoch` counts handshakes), and
 * prints one JSON line per state change, handshake and channel message. It exits by itself after
 * 60 s so a failed test never leaves it behind.
 */
import process from "node:process";
import { connect, type StateChange } from "../../client.ts";

const [url, name, channel = "room"] = process.argv.slice(2);
if (!url || !name) {
  console.error("usage: reconnect_client.ts <ws-url> <name> [channel]");
  process.exit(2);
}
const out = (o: Record<string, unknown>) => console.log(JSON.stringify({ name, ...o }));
setTimeout(() => process.exit(3), 60_000);

const client = connect(url, {
  reconnect: { initialDelayMs: 250, maxDelayMs: 2000 },
  onError: (e) => out({ ev: "error", message: e.message }),
});
let epoch = 0;
let subscribed = false;
client.on("chsk/state", (d) => {
  const c = d as StateChange;
  out({ ev: "state", from: c.from, to: c.to, reason: c.reason });
});
client.on("chsk/handshake", (d) => {
  epoch++;
  out({ ev: "handshake", first: (d as { first: boolean }).first, epoch });
});
client.on("chsk/resubscribe-failed", (d) => out({ ev: "resubscribe-failed", data: String(d) }));
client.subscribe(channel, (data) => out({ ev: "msg", data })).then(
  () => {
    subscribed = true;
    out({ ev: "subscribed" });
  },
  (e) => out({ ev: "subscribe-failed", message: String(e) }),
);
setInterval(() => {
  if (!subscribed || client.state !== "open") return;
  client.publish(channel, { from: name, epoch }, { excludeSender: true }).catch(() => {});
}, 150);
