/// <reference lib="dom" />
/**
 * The shop page's script: a `Telemetry` whose signals go to the server with `remoteHandler`.
 *
 * @module
 */
import { connect, STATE_EVENT, type StateChange } from "../../client.ts";
import { remoteHandler, Telemetry } from "../../telemetry.ts";

const user = new URLSearchParams(location.search).get("user") ?? "guest";
const telemetry = new Telemetry({ minLevel: "info", ns: "shop.page" });
// The client reports its own signals (reconnects, protocol errors) to the same instance.
const client = connect(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/chsk`, {
  params: { user },
  telemetry,
});
client.on(STATE_EVENT, (change) => {
  document.getElementById("state")!.textContent = (change as StateChange).to;
});
// Batches leave every 200 ms (and when the page is hidden or closed).
telemetry.addHandler("remote", remoteHandler(client, { flushIntervalMs: 200 }));
telemetry.event("page/open", { data: { path: location.pathname } });

for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-item]")) {
  button.addEventListener("click", async () => {
    const item = button.dataset.item!;
    telemetry.event("ui/click", { data: { button: button.id, item } });
    const answer = await client.request("shop/buy", { item }) as { item: string };
    document.getElementById("result")!.textContent = `bought a ${answer.item}`;
  });
}

document.getElementById("crash")!.addEventListener("click", () => {
  try {
    JSON.parse("{ not json");
  } catch (e) {
    telemetry.error(e, { id: "ui/crash", data: { button: "crash" } });
    document.getElementById("result")!.textContent = "something broke (and was reported)";
  }
});
