// This module is browser compatible.
/** The minimal app plus streams: its size is reported (streams are an opt-in import). */
import { connect } from "../../client.ts";
import { clientStreams } from "../../client_streams.ts";

const client = connect(`${location.origin.replace(/^http/, "ws")}/chsk`, {
  streams: clientStreams(),
});
console.log(await client.upload("app/upload", new Uint8Array(10)));
console.log(await client.download("app/download"));
