/**
 * A server process for the descriptor-exhaustion test (run under a low `ulimit -n`): prints its
 * port, then `onError` reports, on stdout.
 */
import { createServer } from "../../server.ts";

const server = createServer({
  onError: (error, context) => console.log(`onError ${context.where}: ${error}`),
});
server.on("test/echo", (msg) => msg.data);
const handle = await server.serve({ port: 0 });
console.log(`port ${handle.port}`);
