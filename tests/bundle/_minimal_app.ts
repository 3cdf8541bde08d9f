// This module is browser compatible.
/** The app whose bundle has a size budget: connect, request, on and subscribe, nothing opt-in. */
import { connect } from "../../client.ts";

const client = connect(`${location.origin.replace(/^http/, "ws")}/chsk`);
client.on("app/news", (data) => console.log("news", data));
await client.subscribe("lobby", (data) => console.log("lobby", data));
console.log(await client.request("app/echo", { hello: "world" }));
