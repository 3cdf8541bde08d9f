// This module is browser compatible.
/** The same app with every opt-in: wire transforms and telemetry shipped to the server. */
import { connect } from "../../client.ts";
import { wireTransforms } from "../../client_wire.ts";
import { remoteHandler, Telemetry } from "../../telemetry.ts";

const telemetry = new Telemetry({ minLevel: "info" });
const client = connect(`${location.origin.replace(/^http/, "ws")}/chsk`, {
  wire: wireTransforms({ batching: true }),
  telemetry,
});
telemetry.addHandler("remote", remoteHandler(client));
client.on("app/news", (data) => console.log("news", data));
await client.subscribe("lobby", (data) => console.log("lobby", data));
console.log(await client.request("app/echo", { hello: "world" }));
