/**
 * The Bun half of `client_ip_test.ts`: `bun _bun_proxy_server.ts` serves a Hub behind a "proxy"
 * on 127.0.0.1 (`maxConnectionsPerIp: 2`, `forwardedClientIp` trusting 127.0.0.1) and prints
 * `{"port", "runtime"}` once listening. It runs until killed.
 */
import { createServer } from "../../lib/server/server.ts";
import { forwardedClientIp } from "../../lib/server/client_ip.ts";

const server = createServer({
  onError: () => {},
  maxConnectionsPerIp: 2,
  clientIp: forwardedClientIp({ trustedProxies: ["127.0.0.1"] }),
});
const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
console.log(JSON.stringify({ port: handle.port, runtime: "Bun" in globalThis ? "bun" : "deno" }));
