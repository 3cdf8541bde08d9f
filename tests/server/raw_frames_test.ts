/**
 * Illegal client frames (RFC 6455 §5) over raw TCP, against the Deno server in-process and the
 * server under Bun as a subprocess: what comes back on the wire (pinned: docs/PROTOCOL.md §4.2
 * documents exactly this), that the server survives, that another client still gets replies and
 * that the Hub drops the attacker's connection.
 *
 * The Bun half needs Bun (`BUN_PATH`, else `node_modules/.bin/bun`, else `bun` on PATH): skipped
 * with a note when it is missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { startServer } from "../_server.ts";
import { BUN_HINT, bunPath, ignoreWithoutTool, requireTool, withTimeout } from "../_util.ts";
import { Child } from "../runtime/_child.ts";
import { ATTACKS, buildFrame, type Outcome, RawWs } from "./_raw_ws.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BUN_SERVER = new URL("./_bun_raw_server.ts", import.meta.url).pathname;
const BUN = bunPath();
const SKIP_BUN = ignoreWithoutTool("Bun", BUN);
/** Bound on a subprocess starting up (cold runtime start and module loading on a busy machine). */
const START_MS = 20_000;
/** Bound on one event (a close, a reply). */
const EVENT_MS = 5_000;

/**
 * What comes back on the wire: a close frame with this code, `"tcp-close"` (the TCP connection
 * ends without a close frame), or `"accepted"` (the frame is processed like a legal one).
 */
type Answer = number | "tcp-close" | "accepted";

/** The measured answers (bench/raw_frames.ts); docs/PROTOCOL.md §4.2 is this table. */
const EXPECTED: Record<keyof typeof ATTACKS, { deno: Answer; bun: Answer }> = {
  "text frame with invalid UTF-8": { deno: "tcp-close", bun: 1007 },
  "RSV1 set (no extension negotiated)": { deno: "tcp-close", bun: 1002 },
  "RSV2 set": { deno: "tcp-close", bun: 1002 },
  "RSV3 set": { deno: "tcp-close", bun: 1002 },
  "unmasked client text frame": { deno: "accepted", bun: 1002 },
  "reserved data opcode 0x3": { deno: "tcp-close", bun: 1002 },
  "reserved control opcode 0xB": { deno: "tcp-close", bun: 1002 },
  "fragmented ping (FIN clear)": { deno: "tcp-close", bun: 1002 },
  "ping with a 126-byte payload": { deno: "tcp-close", bun: 1002 },
  "continuation frame without a start": { deno: "tcp-close", bun: 1002 },
  "new text frame inside a fragmented message": { deno: "tcp-close", bun: 1002 },
  "close frame with a 1-byte payload": { deno: "tcp-close", bun: 1002 },
  "close frame with reserved code 1005": { deno: 1002, bun: 1002 },
};

/** The code the Hub's `onClose` sees for an attacker's connection (the runtime never says more). */
const HUB_CODE = { deno: 1006, bun: 1006 };

/** A server under test, whatever the runtime. */
interface Target {
  runtime: "deno" | "bun";
  url: string;
  /** Resolves with the code the Hub's `onClose` got for the connection of `clientId`. */
  hubClosed(clientId: string): Promise<number>;
}

let cbSeq = 0;

/** Sends a request envelope on `raw` (masked unless `mask: false`) and returns its reply's data. */
async function request(raw: RawWs, id: string, data: unknown, mask = true): Promise<unknown> {
  const cb = `cb${++cbSeq}`;
  const text = JSON.stringify([[id, data], cb]);
  await raw.send(buildFrame({ opcode: 0x1, mask, payload: new TextEncoder().encode(text) }));
  for (let i = 0; i < 16; i++) {
    const [reply, replyCb] = JSON.parse(await raw.nextText(EVENT_MS));
    if (replyCb === cb) return reply;
  }
  throw new Error(`no reply to ${cb}`);
}

function describe(outcome: Outcome): Answer {
  if (outcome.kind === "close-frame") return outcome.code;
  return outcome.kind === "text" ? "accepted" : "tcp-close";
}

/** Runs one attack against `target` with `other` connected, and checks everything around it. */
async function attack(target: Target, other: RawWs, name: keyof typeof ATTACKS): Promise<void> {
  const expected = EXPECTED[name][target.runtime];
  const raw = await RawWs.open(target.url, EVENT_MS);
  try {
    assert.match(await raw.nextText(EVENT_MS), /^\[\["chsk\/handshake"/);
    const hubClosed = target.hubClosed(raw.clientId);
    await raw.send(ATTACKS[name]());
    const outcome = await raw.outcome(EVENT_MS, { text: true });
    assert.equal(describe(outcome), expected, `${target.runtime}: ${name}`);
    if (expected === "accepted") {
      // The runtime took the illegal frame as a legal one (the Hub answered its `[]` with
      // bad-envelope), and a request sent the same way is answered too.
      assert.match(outcome.kind === "text" ? outcome.text : "", /"bad-envelope"/);
      assert.deepEqual(await request(raw, "test/echo", { unmasked: true }, false), {
        unmasked: true,
      });
      raw.close();
    }
    assert.equal(await hubClosed, HUB_CODE[target.runtime], `the Hub's close code for ${name}`);
    // The server lives on, the other client is served, and only it is left registered.
    assert.deepEqual(await request(other, "test/echo", { after: name }), { after: name });
    assert.deepEqual(await request(other, "test/stats", null), { connections: 1 });
  } finally {
    raw.close();
  }
}

/** Runs every attack as a step against `target`. */
async function attackAll(t: Deno.TestContext, target: Target): Promise<void> {
  const other = await RawWs.open(target.url, EVENT_MS);
  try {
    await other.nextText(EVENT_MS); // the handshake
    for (const name of Object.keys(ATTACKS)) {
      await t.step(
        `${name} → ${EXPECTED[name][target.runtime]}`,
        () => attack(target, other, name),
      );
    }
  } finally {
    other.close();
  }
}

/** How docs/PROTOCOL.md §4.2 writes an {@linkcode Answer}. */
function docCell(answer: Answer): string {
  if (answer === "tcp-close") return "TCP close without a close frame";
  return answer === "accepted" ? "**accepted**, processed as usual" : `close ${answer}`;
}

Deno.test("docs/PROTOCOL.md §4.2 shows exactly the pinned answers", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
  const section = doc.slice(doc.indexOf("### 4.2 "), doc.indexOf("## 5. "));
  const rows = section.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| -"))
    .map((l) => l.split("|").slice(1, -1).map((c) => c.trim())).slice(1); // drop the header
  const expected = Object.entries(EXPECTED).map(([name, a]) => [
    name,
    docCell(a.deno),
    docCell(a.bun),
  ]);
  assert.deepEqual(rows, expected, "update the table in docs/PROTOCOL.md §4.2");
});

Deno.test("Deno server: illegal client frames get the runtime's answer, nothing else breaks", async (t) => {
  const closes = new Map<string, (code: number) => void>();
  await using s = await startServer({
    onClose: (conn, code) => closes.get(conn.clientId)?.(code),
  });
  s.server.on("test/echo", (msg) => msg.data);
  s.server.on("test/stats", () => ({ connections: s.server.stats().connections }));
  await attackAll(t, {
    runtime: "deno",
    url: s.url,
    hubClosed: (clientId) =>
      withTimeout(
        new Promise<number>((resolve) => closes.set(clientId, resolve)),
        EVENT_MS,
        `the Hub to clean up ${clientId}`,
      ),
  });
});

Deno.test({
  name: "Bun server: illegal client frames get the runtime's answer, nothing else breaks",
  ignore: SKIP_BUN,
  async fn(t) {
    const bun = requireTool("Bun", BUN, BUN_HINT);
    const child = new Child("bun _bun_raw_server.ts", bun, [BUN_SERVER], ROOT);
    try {
      const info = JSON.parse(
        await child.line("the listening line", (l) => l.includes('"port"'), START_MS),
      );
      assert.equal(info.runtime, "bun", child.describe());
      await attackAll(t, {
        runtime: "bun",
        url: info.url,
        hubClosed: async (clientId) =>
          JSON.parse(await child.line("the Hub's close", (l) => l.includes(clientId), EVENT_MS))
            .code,
      });
      assert.equal(child.status, null, `the Bun server died:\n${child.describe()}`);
    } finally {
      await child.stop("SIGKILL");
    }
  },
});
