/// <reference lib="dom" />
/**
 * The chat page's script (bundled with the client by the example server, served at /page.js).
 *
 * @module
 */
import { type Client, connect, HANDSHAKE_EVENT, STATE_EVENT } from "../../client.ts";
import type { ChatMessage } from "./server.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let client: Client | undefined;
let room = "";
const typingTimers = new Map<string, ReturnType<typeof setTimeout>>(); // uid → timer that hides "… is typing"

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!client) {
    const name = $<HTMLInputElement>("name").value.trim();
    $<HTMLInputElement>("name").disabled = true; // the name is the uid of this connection
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    client = connect(`${scheme}://${location.host}/chsk`, { params: { name } });
    client.on(STATE_EVENT, (change) => $("state").textContent = (change as { to: string }).to);
    // After a reconnect the server has forgotten this connection's membership: join again.
    client.on(HANDSHAKE_EVENT, () => room && join(room));
    await client.ready;
  }
  await switchTo($<HTMLInputElement>("room").value.trim());
});

async function switchTo(next: string): Promise<void> {
  if (!client || next === room) return;
  if (room) {
    await client.request("chat/leave", { room });
    await client.unsubscribe(`room:${room}`);
  }
  room = next;
  $("chat").style.display = "grid";
  $("title").textContent = `#${room}`;
  $("messages").replaceChildren();
  await client.subscribe(`room:${room}`, onRoomMessage);
  await join(room);
}

async function join(name: string): Promise<void> {
  const answer = await client!.request("chat/join", { room: name }) as {
    history?: ChatMessage[];
    presence?: string[];
    error?: string;
  };
  if (answer.error) return void alert(answer.error);
  $("messages").replaceChildren();
  for (const message of answer.history ?? []) show(message);
  showPresence(answer.presence ?? []);
}

function onRoomMessage(data: unknown): void {
  const d = data as { message?: ChatMessage; presence?: string[]; typing?: string };
  if (d.message) show(d.message);
  if (d.presence) showPresence(d.presence);
  if (d.typing) showTyping(d.typing);
}

function show(message: ChatMessage): void {
  const li = document.createElement("li");
  li.dataset.uid = message.uid;
  li.title = new Date(message.at).toLocaleTimeString();
  li.textContent = `${message.uid}: ${message.text}`;
  $("messages").append(li);
  li.scrollIntoView();
  hideTyping(message.uid);
}

function showPresence(uids: string[]): void {
  $("members").replaceChildren(...uids.map((uid) => {
    const li = document.createElement("li");
    li.textContent = uid;
    return li;
  }));
}

function showTyping(uid: string): void {
  clearTimeout(typingTimers.get(uid));
  typingTimers.set(uid, setTimeout(() => hideTyping(uid), 3000));
  renderTyping();
}

function hideTyping(uid: string): void {
  clearTimeout(typingTimers.get(uid));
  if (typingTimers.delete(uid)) renderTyping();
}

function renderTyping(): void {
  const uids = [...typingTimers.keys()];
  $("typing").textContent = uids.length ? `${uids.join(", ")} typing…` : "";
}

let lastTyping = 0;
$("text").addEventListener("input", () => {
  // At most one typing event a second: the other pages show it for 3 s.
  if (!client || !room || Date.now() - lastTyping < 1000) return;
  lastTyping = Date.now();
  client.send("chat/typing", { room });
});

$("say").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("text");
  if (!client || !room || input.value.trim() === "") return;
  const text = input.value;
  input.value = "";
  lastTyping = 0;
  await client.request("chat/say", { room, text });
});
