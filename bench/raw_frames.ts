/**
 * What each runtime answers to illegal client frames (RFC 6455 §5) before the Hub sees them: runs
 * every attack of `tests/server/_raw_ws.ts` against `tests/server/_bun_raw_server.ts` under Deno
 * and under Bun, and prints per case what came back on the wire (a close frame and its code, or a
 * TCP close without one), how long it took, the code the Hub's `onClose` saw, and whether another
 * client still got a reply with `stats().connections` back to 1. Source of docs/PROTOCOL.md §4.2.
 *
 *   deno run -A bench/raw_frames.ts
 *
 * Prints a table per runtime and a JSON line with every row.
 */
import { connect } from "../client.ts";
import { Child } from "../tests/runtime/_child.ts";
import { ATTACKS, RawWs } from "../tests/server/_raw_ws.ts";
import { firstExisting } from "../tests/_util.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SERVER = new URL("../tests/server/_bun_raw_server.ts", import.meta.url).pathname;
const BUN = firstExisting([Deno.env.get("BUN_PATH"), `${ROOT}node_modules/.bin/bun`]);

interface Row {
  runtime: string;
  attack: string;
  wire: string;
  ms: number;
  /** After a close frame, ms until the runtime ended TCP unanswered (`null`: not within 1 s). */
  tcpEndMs: number | null;
  hubCode: number | null;
  otherClientOk: boolean;
  connectionsAfter: number;
}

async function measure(runtime: string, command: string, args: string[]): Promise<Row[]> {
  const child = new Child(runtime, command, [...args, SERVER], ROOT);
  const rows: Row[] = [];
  try {
    const info = JSON.parse(await child.line("listening", (l) => l.includes('"port"'), 20_000));
    const other = connect(info.url, { requestTimeoutMs: 5000 });
    await other.ready;
    for (const [attack, frame] of Object.entries(ATTACKS)) {
      const raw = await RawWs.open(info.url);
      await raw.nextText(); // the handshake
      await raw.send(frame());
      const outcome = await raw.outcome(3000, { text: true }).catch(() => null);
      // After a close frame: does the runtime end TCP by itself (we never answer the close)?
      let tcpEndMs: number | null = null;
      if (outcome?.kind === "close-frame") {
        const after = await raw.outcome(1000).catch(() => null);
        tcpEndMs = after?.kind === "tcp-close" ? after.ms : null;
      }
      raw.close();
      const closed = JSON.parse(
        await child.line("the Hub's close", (l) => l.includes(raw.clientId), 5000),
      );
      const echo = await other.request("test/echo", { attack });
      const stats = await other.request("test/stats") as { connections: number };
      rows.push({
        runtime,
        attack,
        wire: outcome === null
          ? "nothing within 3 s (then the client closed)"
          : outcome.kind === "text"
          ? `accepted: the Hub answered ${outcome.text.slice(0, 40)}`
          : outcome.kind === "close-frame"
          ? `close frame ${outcome.code}${outcome.reason ? ` "${outcome.reason}"` : ""}`
          : `TCP close without a close frame${outcome.error ? ` (${outcome.error})` : ""}`,
        ms: outcome?.ms ?? 3000,
        tcpEndMs,
        hubCode: closed.code,
        otherClientOk: (echo as { attack: string }).attack === attack,
        connectionsAfter: stats.connections,
      });
    }
    other.close();
  } finally {
    await child.stop("SIGKILL");
  }
  return rows;
}

const rows = [
  ...await measure("deno", Deno.execPath(), ["run", "-A"]),
  ...(BUN ? await measure("bun", BUN, []) : []),
];
for (const r of rows) {
  console.log(
    `${r.runtime.padEnd(5)} ${r.attack.padEnd(38)} ${r.wire.padEnd(48)} ${
      String(r.ms).padStart(4)
    } ms  tcp-end=${r.tcpEndMs} hub=${r.hubCode} other=${r.otherClientOk} conns=${r.connectionsAfter}`,
  );
}
console.log(JSON.stringify(rows));
