/** The browser side of the telemetry end-to-end test: a client and a remote telemetry handler. */
import { connect } from "../../client.ts";
import { remoteHandler } from "../../lib/telemetry/remote_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";

/** Connects, ships telemetry to the server and logs one error; resolves when it was flushed. */
export async function run(url: string): Promise<string> {
  const client = connect(url, { params: { user: "alice" } });
  const { uid } = await client.ready;
  const telemetry = new Telemetry({ minLevel: "info" });
  telemetry.addHandler("remote", remoteHandler(client, { flushIntervalMs: 20 }));
  try {
    throw new Error("the page broke");
  } catch (e) {
    telemetry.error(e, { id: "page/crash", data: { route: "/checkout" } });
  }
  await telemetry.flush(5000);
  return uid;
}
