/**
 * The demo page: a small browser chat over the client module served at `/client.js`.
 *
 * @module
 */

/** The HTML of the demo page; `path` is the WebSocket endpoint path. */
export function demoPage(path: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sente-lite demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
  #log div { margin: .1rem 0; } .sys { color: #777; } form { display: flex; gap: .5rem; margin-top: .5rem; }
  input { flex: 1; }
</style>
</head>
<body>
<h1>sente-lite chat</h1>
<p>State: <b id="state">connecting</b> · uid <code id="uid">?</code></p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="Say something" autofocus>
<button>Send</button><button type="button" id="echo">Echo (request)</button></form>
<script type="module">
  import { connect } from "/client.js";
  const log = (text, cls = "") => {
    const div = document.createElement("div");
    div.textContent = text;
    div.className = cls;
    document.getElementById("log").append(div);
    div.scrollIntoView();
  };
  const url = new URL(${JSON.stringify(path)}, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const client = connect(url);
  window.senteClient = client;
  client.on("chsk/state", ({ to }) => document.getElementById("state").textContent = to);
  client.on("demo/broadcast", (data) => log("broadcast: " + JSON.stringify(data), "sys"));
  const { uid } = await client.ready;
  document.getElementById("uid").textContent = uid;
  await client.subscribe("chat", (data, { from }) => log((from ?? "server").slice(0, 6) + ": " + data.text));
  log("joined channel chat", "sys");
  document.getElementById("form").onsubmit = async (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    if (input.value) await client.publish("chat", { text: input.value });
    input.value = "";
  };
  document.getElementById("echo").onclick = async () => {
    const reply = await client.request("demo/echo", { at: new Date().toISOString() });
    log("echo reply: " + JSON.stringify(reply), "sys");
  };
</script>
</body>
</html>
`;
}
