/**
 * The demo page: pick a name (it is the uid), chat in rooms with presence, drop the connection and
 * watch it resume with nothing lost, ping the server, answer a question the server asks, and see
 * the wire savings live. Plain HTML with one module script over `/client.js` and `/client-wire.js`.
 *
 * @module
 */
import { PAGE_STYLE } from "./style.ts";

/** The HTML of the demo page; `path` is the WebSocket endpoint path. */
export function demoPage(path: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sente-lite demo</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><h1>sente-lite</h1><span class="badge" id="state">signed out</span>
  <span>uid <code id="uid">-</code></span></header>
<form id="login" class="card">
  <label>Your name <input id="name" maxlength="24" autocomplete="off" autofocus></label>
  <label>Room <input id="room" value="lobby" maxlength="32"></label>
  <button>Join</button>
  <p id="login-error" class="error"></p>
</form>
<main id="app" hidden>
  <section class="card room">
    <h2 id="title"></h2>
    <ul id="messages"></ul>
    <form id="say"><input id="text" autocomplete="off" placeholder="Say something">
      <button>Send</button></form>
  </section>
  <aside>
    <section class="card"><h3>In the room</h3><ul id="members"></ul></section>
    <section class="card"><h3>Connection</h3>
      <button id="drop">Drop connection</button>
      <p id="resume" class="note">Drop it, let others talk, reconnect: nothing is lost.</p></section>
    <section class="card"><h3>Try</h3>
      <p><button id="ping">Ping the server</button> <span id="ping-result"></span></p>
      <p><button id="ask">Let the server ask me</button> <span id="answer"></span></p>
      <div id="question" hidden><p id="question-text"></p>
        <button id="yes">Yes</button> <button id="no">No</button></div>
      <p><button id="burst">Burst of 20 pushes</button> <span id="burst-result"></span></p></section>
  </aside>
  <section class="card wide"><h3>Wire savings <small><b class="before">before</b> → <b class="after">after</b>
    compression, bytes sent by the server, the last minute</small></h3>
    <svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img"
      aria-label="bytes before and after compression">
      <polyline id="line-before" class="before" points=""/>
      <polyline id="line-after" class="after" points=""/></svg>
    <p id="wire" class="note">waiting for the first point…</p></section>
</main>
<script type="module">
  import { connect, onPresence, presence, HANDSHAKE_EVENT, STATE_EVENT } from "/client.js";
  import { wireTransforms } from "/client-wire.js";
  const $ = (id) => document.getElementById(id);
  const ROOM = /^[\\p{L}\\p{N}_-]{1,32}$/u;
  let client, room = "", away = 0, back = 0, stopPresence;
  const members = new Map(); // connId → uid
  const points = []; // wire snapshots, the last 60

  function line(text, cls = "") {
    const li = document.createElement("li");
    li.textContent = text;
    li.className = cls;
    $("messages").append(li);
    li.scrollIntoView({ block: "nearest" });
  }
  function showMembers() {
    const uids = [...new Set(members.values())].sort();
    $("members").replaceChildren(...uids.map((uid) => {
      const li = document.createElement("li");
      li.textContent = uid;
      return li;
    }));
  }
  function setState(state, why = "") {
    $("state").textContent = state;
    $("state").dataset.state = state;
    $("state").title = why;
  }

  $("login").onsubmit = async (e) => {
    e.preventDefault();
    const next = $("room").value.trim();
    if (!ROOM.test(next)) return void ($("login-error").textContent = "a room is 1–32 letters, digits, - or _");
    $("login-error").textContent = "";
    if (!client) {
      const url = new URL(${JSON.stringify(path)}, location.href);
      url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
      url.searchParams.set("name", $("name").value);
      const c = connect(url, { wire: wireTransforms({ batching: true }) });
      window.senteClient = c;
      c.on(STATE_EVENT, (s) => {
        setState(s.to, s.reason);
        // A refusal (4001) is terminal: say why and let the user pick another name.
        if (s.to === "failed" && s.code === 4001) {
          $("login-error").textContent = "Refused: " + s.reason.replace(/^close 4001 ?/, "");
          $("name").disabled = false;
          client = undefined;
        }
      });
      c.on(HANDSHAKE_EVENT, (h) => {
        if (h.first) return;
        back = Date.now();
        const r = h.server?.resume;
        const gap = r?.gap;
        $("resume").textContent = !r ? "reconnected (the server does not resume)"
          : r.resumed ? "resumed: nothing lost, missed messages replayed in order"
          : "resumed with a gap: " + (gap?.dropped ?? "?") + " lost (" + (gap?.reason ?? "unknown") + ")";
        if (room) refreshPresence();
      });
      c.on("sente-lite/gap", (g) => line("gap: " + g.dropped + " messages lost (" + g.reason + ")", "sys"));
      c.on("demo/burst", (d) => {
        $("burst-result").textContent = d.i + " / " + d.count + " pushes received";
      });
      c.onRequest("demo/question", (q) => new Promise((resolve) => {
        $("question-text").textContent = "The server asks: " + q.text;
        $("question").hidden = false;
        const answer = (a) => { $("question").hidden = true; resolve(a); };
        $("yes").onclick = () => answer("yes");
        $("no").onclick = () => answer("no");
      }));
      $("name").disabled = true;
      try {
        const h = await c.ready;
        client = c;
        $("uid").textContent = h.uid;
      } catch {
        return; // refused: the state handler said why
      }
      await client.subscribe("demo:stats", onWire);
    }
    await switchTo(next);
  };

  async function switchTo(next) {
    if (next === room) return;
    if (room) await client.unsubscribe("room:" + room);
    room = next;
    $("app").hidden = false;
    $("title").textContent = "#" + room;
    $("messages").replaceChildren();
    members.clear();
    await client.subscribe("room:" + room, (m) => {
      // Server time vs page time: the same clock when both run here, close enough elsewhere.
      const late = away && m.at >= away && (!back || m.at <= back) ? " (sent while you were away)" : "";
      line(m.uid + ": " + m.text + late, late ? "late" : "");
    });
    stopPresence?.();
    stopPresence = onPresence(client, "room:" + room, (e) => {
      if (e.action === "join") members.set(e.connId, e.uid);
      else members.delete(e.connId);
      showMembers();
    });
    await refreshPresence();
  }
  async function refreshPresence() {
    const list = await presence(client, "room:" + room);
    members.clear();
    for (const m of list) members.set(m.connId, m.uid);
    showMembers();
  }

  $("say").onsubmit = async (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!client || !text.trim()) return;
    if (client.state === "closed") return void line("offline: reconnect to send", "sys");
    $("text").value = "";
    // While reconnecting, send() queues (numbered, re-sent until acknowledged); after close() it would reject.
    client.send("demo/say", { room, text });
  };
  $("drop").onclick = () => {
    if (client.state === "closed") {
      client.reconnect();
      $("drop").textContent = "Drop connection";
    } else {
      away = Date.now();
      back = 0;
      client.close(1000, "dropped from the page"); // the server keeps the session to resume
      $("drop").textContent = "Reconnect";
      $("resume").textContent = "offline: messages for you wait on the server";
    }
  };
  $("ping").onclick = async () => {
    const t0 = performance.now();
    await client.request("demo/ping", null, { timeoutMs: 5000 });
    $("ping-result").textContent = "pong in " + (performance.now() - t0).toFixed(1) + " ms";
  };
  $("ask").onclick = async () => {
    $("answer").textContent = "waiting for your answer…";
    const r = await client.request("demo/ask", null, { timeoutMs: 65000 });
    $("answer").textContent = "the server heard \\"" + r.answer + "\\" after " + r.ms + " ms";
  };
  $("burst").onclick = async () => {
    await client.request("demo/burst", null, { timeoutMs: 5000 });
  };

  function onWire(p) {
    points.push(p);
    if (points.length > 60) points.shift();
    const max = Math.max(1, ...points.map((q) => q.before));
    const xy = (v, i) => (i * 600 / 59).toFixed(1) + "," + (115 - v / max * 110).toFixed(1);
    $("line-before").setAttribute("points", points.map((q, i) => xy(q.before, i)).join(" "));
    $("line-after").setAttribute("points", points.map((q, i) => xy(q.after, i)).join(" "));
    const saved = p.before ? Math.round(100 - p.after / p.before * 100) : 0;
    const s = client.stats();
    $("wire").textContent = p.before + " B → " + p.after + " B compressed (" + saved + "% saved) · " +
      p.batchFrames + " batches carrying " + p.batchedMessages + " pushes · " + p.connections +
      " connections · this page: " + s.messagesIn + " frames in, " + s.messagesOut + " out, " +
      s.reconnects + " reconnects";
  }
</script>
</body>
</html>
`;
}
