/// <reference lib="dom" />
/**
 * The tail page's script: the recent lines, then every new one as the server publishes it.
 *
 * @module
 */
import { connect, STATE_EVENT, type StateChange } from "../../client.ts";
import type { TailLine } from "./server.ts";

const client = connect(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/chsk`);
client.on(STATE_EVENT, (change) => {
  document.getElementById("state")!.textContent = (change as StateChange).to;
});

function show({ file, record }: TailLine): void {
  const row = document.createElement("tr");
  row.dataset.id = String(record.id ?? "");
  const error = record.error as { name?: string; message?: string } | undefined;
  const data = error ? `${error.name}: ${error.message}` : record.data;
  for (
    const cell of [
      String(record.time ?? "").slice(11, 23),
      file,
      record.level,
      record.id ?? record.kind,
      record.uid ?? "",
      typeof data === "string" ? data : JSON.stringify(data) ?? "",
    ]
  ) {
    const td = document.createElement("td");
    td.textContent = String(cell);
    row.append(td);
  }
  document.getElementById("lines")!.prepend(row);
}

// Subscribe first so nothing is missed; the recent lines may then overlap the first live ones
// (and only those: the server's reply comes after every line it published before it).
let seen: Set<string> | null = new Set();
const once = (line: TailLine) => {
  const key = `${line.file}\n${JSON.stringify(line.record)}`;
  if (seen?.has(key)) return;
  seen?.add(key);
  show(line);
};
await client.subscribe("tail", (line) => once(line as TailLine));
for (const line of await client.request("tail/recent") as TailLine[]) once(line);
seen = null;
