// This module is browser compatible.
/** The minimal app with wire transforms only. */
import { connect } from "../../client.ts";
import { wireTransforms } from "../../client_wire.ts";

const client = connect(`${location.origin.replace(/^http/, "ws")}/chsk`, {
  wire: wireTransforms({ batching: true }),
});
client.on("app/news", (data) => console.log("news", data));
await client.subscribe("lobby", (data) => console.log("lobby", data));
console.log(await client.request("app/echo", { hello: "world" }));
