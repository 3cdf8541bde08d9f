/**
 * For client_bundle_test.ts: a server in a process without `--allow-run` asks for its client
 * bundle once and prints the status and the error it reported.
 */
import { createServer } from "../../server.ts";

const errors: string[] = [];
const server = createServer({ onError: (e) => void errors.push(String(e)) });
const handle = await server.serve({ port: 0 });
const res = await fetch(`http://127.0.0.1:${handle.port}/chsk/client.js`);
await res.body?.cancel();
console.log(JSON.stringify({ status: res.status, errors }));
await handle.close();
