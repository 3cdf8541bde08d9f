/**
 * The server side of bench/server_speed.ts: `_speed_server.ts <root> <sente|raw>` serves either
 * sente-lite from `<root>/server.ts` (rate limit off, `b/echo` handler) or the raw runtime
 * (Deno.serve / Bun.serve with `server.publish`), prints `{"port"}`, and answers HTTP control
 * requests: `/burst?k=&size=` (broadcast k messages), `/rss` (after GC), `/cpu` (µs), `/exit`.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any

// HTTP control: /burst?k=&size= (broadcast k msgs), /rss, /cpu
const [root, mode] = (globalThis as any).Deno
  ? (globalThis as any).Deno.args
  : (globalThis as any).process.argv.slice(2);
const isBun = "Bun" in globalThis;
function cpuUs(): number {
  if (isBun) {
    const u = (globalThis as any).process.cpuUsage();
    return u.user + u.system;
  }
  const t = (globalThis as any).Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(t[11]) + Number(t[12])) * 10000;
}
function rss(): number {
  const s = (globalThis as any).Deno
    ? (globalThis as any).Deno.readTextFileSync("/proc/self/status")
    : require("fs").readFileSync("/proc/self/status", "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(s)![1]);
}
const gc = () => {
  try {
    (globalThis as any).Bun?.gc(true);
  } catch { /* no gc */ }
  try {
    (globalThis as any).gc?.();
  } catch { /* no gc */ }
};
let burst: (k: number, size: number) => void;
let count: () => number;
function control(url: URL): Response {
  if (url.pathname === "/rss") {
    gc();
    gc();
    return new Response(JSON.stringify({ rss: rss(), n: count() }));
  }
  if (url.pathname === "/exit") {
    setTimeout(
      () =>
        (globalThis as any).Deno
          ? (globalThis as any).Deno.exit(0)
          : (globalThis as any).process.exit(0),
      50,
    );
    return new Response("bye");
  }
  if (url.pathname === "/cpu") return new Response(String(cpuUs()));
  if (url.pathname === "/burst") {
    const k = Number(url.searchParams.get("k")), size = Number(url.searchParams.get("size"));
    const c0 = cpuUs();
    setTimeout(() => burst(k, size), 0);
    return new Response(String(c0));
  }
  return new Response("nf", { status: 404 });
}
if (mode === "sente") {
  const { createServer } = await import(root + "/server.ts");
  const server = createServer({
    rateLimit: false,
    maxConnections: 50000,
    maxConnectionsPerIp: 50000,
    fallback: (r: Request) => control(new URL(r.url)),
    onError: (e: unknown) => console.error(e),
  });
  server.on("b/echo", (m: any) => m.data);
  burst = (k, size) => {
    const p = "x".repeat(size);
    for (let i = 0; i < k; i++) server.broadcast("b/m", p);
  };
  count = () => server.stats().connections;
  const h = await server.serve({ port: 0, hostname: "127.0.0.1" });
  console.log(JSON.stringify({ port: h.port }));
} else if (isBun) {
  let n = 0;
  const B = (globalThis as any).Bun;
  const srv = B.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req: Request, s: any) {
      const u = new URL(req.url);
      if (u.pathname === "/chsk") {
        return s.upgrade(req) ? undefined : new Response("no", { status: 400 });
      }
      return control(u);
    },
    websocket: {
      idleTimeout: 0,
      sendPings: false,
      open(ws: any) {
        n++;
        ws.subscribe("all");
        ws.send("hello");
      },
      message(ws: any, m: any) {
        ws.send(m);
      },
      close() {
        n--;
      },
    },
  });
  burst = (k, size) => {
    const p = "x".repeat(size);
    for (let i = 0; i < k; i++) srv.publish("all", JSON.stringify([["b/m", p]]));
  };
  count = () => n;
  console.log(JSON.stringify({ port: srv.port }));
} else {
  const D = (globalThis as any).Deno;
  const socks = new Set<WebSocket>();
  burst = (k, size) => {
    const p = "x".repeat(size);
    for (let i = 0; i < k; i++) {
      const f = JSON.stringify([["b/m", p]]);
      for (const s of socks) s.send(f);
    }
  };
  count = () => socks.size;
  const srv = D.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req: Request) => {
    const u = new URL(req.url);
    if (u.pathname === "/chsk") {
      const { socket, response } = D.upgradeWebSocket(req, { idleTimeout: 0 });
      socket.onopen = () => {
        socks.add(socket);
        socket.send("hello");
      };
      socket.onmessage = (e: MessageEvent) => socket.send(e.data);
      socket.onclose = () => socks.delete(socket);
      return response;
    }
    return control(u);
  });
  console.log(JSON.stringify({ port: srv.addr.port }));
}
