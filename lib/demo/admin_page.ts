/**
 * The admin page (`/admin` when the demo server has an admin token): a sente-lite client that
 * connects with `?admin=<token>` and subscribes to `admin:stats`, which the server publishes every
 * second (lib/demo/stats_feed.ts). The token comes from the page's `#token=` fragment (never sent
 * in an HTTP request, so not in access logs) or from the form.
 *
 * @module
 */
import { PAGE_STYLE } from "./style.ts";

/** The HTML of the admin page; `path` is the WebSocket endpoint path. */
export function adminPage(path: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>sente-lite admin</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><h1>sente-lite admin</h1><span class="badge" id="state">signed out</span></header>
<form id="login" class="card">
  <label>Admin token <input id="token" type="password" autocomplete="off" autofocus></label>
  <button>Open</button>
  <p id="login-error" class="error"></p>
</form>
<div id="app" hidden>
  <section class="card kpis">
    <div>connections<b id="connections">0</b></div><div>uids<b id="uids">0</b></div>
    <div>channels<b id="channels">0</b></div>
    <div>messages/s in · out<b id="msg-rate">0 · 0</b></div>
    <div>bytes/s in · out<b id="byte-rate">0 · 0</b></div>
  </section>
  <section class="card"><h3>Wire savings <small><b class="before">before</b> → <b class="after">after</b> compression,
    the last minute</small></h3>
    <svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none">
      <polyline id="line-before" class="before" points=""/>
      <polyline id="line-after" class="after" points=""/></svg>
    <p id="wire" class="note"></p></section>
  <section class="card"><h3>Delivery <small>resumes, gaps and drops</small></h3>
    <p id="delivery"></p></section>
  <section class="card"><h3>Connections</h3>
    <table><thead><tr><th>uid</th><th>connection</th><th>channels</th><th>open for</th></tr></thead>
    <tbody id="conns"></tbody></table></section>
</div>
<script type="module">
  import { connect, STATE_EVENT } from "/client.js";
  const $ = (id) => document.getElementById(id);
  const points = [];
  const fmt = (n) => n >= 1e6 ? (n / 1e6).toFixed(1) + " M" : n >= 1e3 ? (n / 1e3).toFixed(1) + " k" : String(n);
  let client;

  function open(token) {
    client?.close();
    const url = new URL(${JSON.stringify(path)}, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("admin", token);
    client = connect(url);
    client.on(STATE_EVENT, (s) => {
      $("state").textContent = s.to;
      $("state").dataset.state = s.to;
      if (s.to === "failed") {
        $("login-error").textContent = "Refused: " + s.reason.replace(/^close \\d+ ?/, "");
        $("app").hidden = true;
      }
    });
    client.ready.then(async () => {
      $("login-error").textContent = "";
      $("login").hidden = true;
      $("app").hidden = false;
      await client.subscribe("admin:stats", show);
    }, () => {});
  }

  function show(s) {
    $("connections").textContent = s.connections.length;
    $("uids").textContent = s.uids;
    $("channels").textContent = s.channels.length;
    $("msg-rate").textContent = fmt(s.rates.messagesIn) + " · " + fmt(s.rates.messagesOut);
    $("byte-rate").textContent = fmt(s.rates.bytesIn) + " · " + fmt(s.rates.bytesOut);
    points.push(s.wire);
    if (points.length > 60) points.shift();
    const max = Math.max(1, ...points.map((q) => q.before));
    const xy = (v, i) => (i * 600 / 59).toFixed(1) + "," + (115 - v / max * 110).toFixed(1);
    $("line-before").setAttribute("points", points.map((q, i) => xy(q.before, i)).join(" "));
    $("line-after").setAttribute("points", points.map((q, i) => xy(q.after, i)).join(" "));
    const w = s.wire;
    $("wire").textContent = fmt(w.before) + "B → " + fmt(w.after) + "B in " + w.compressed +
      " compressed frames · " + w.batchFrames + " batches carrying " + w.batchedMessages + " pushes";
    const d = s.delivery;
    $("delivery").textContent = "resumed " + d.resumed + " · resume gaps " + d.resumeFailed +
      " · buffered offline " + d.offlineBuffered + " · dropped " + d.offlineDropped +
      " · expired " + d.offlineExpired + " · slow-consumer drops " + d.droppedFrames +
      " · slow-consumer closes " + d.slowConsumerCloses;
    $("conns").replaceChildren(...s.connections.map((c) => {
      const tr = document.createElement("tr");
      for (const text of [c.uid, c.id, c.channels.join(", "), Math.round((s.t - c.openedAt) / 1000) + " s"]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
  }

  $("login").onsubmit = (e) => {
    e.preventDefault();
    open($("token").value);
  };
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) open(fromHash);
</script>
</body>
</html>
`;
}
