import assert from "node:assert/strict";
import { keepUrl, urlOf } from "../../lib/server/upgrade_url.ts";

const ID = "0a11515b-4114-4f99-a6ac-800c8ba61652";
const round = (url: string, id: string) => {
  const kept = keepUrl(url, id);
  return { kept, url: urlOf(kept.head, kept.tail, id) };
};

Deno.test("keepUrl keeps the text around the client id and gives the same URL back", () => {
  const url = `http://127.0.0.1:3000/chsk?client-id=${ID}&packer=json&resume=0&cseq=`;
  const { kept, url: again } = round(url, ID);
  assert.equal(kept.head, "http://127.0.0.1:3000/chsk?client-id=");
  assert.equal(kept.tail, "&packer=json&resume=0&cseq=");
  assert.equal(again, url);
  // The next connection's URL of the same shape gives the same parts.
  const other = "11111111-2222-4333-8444-555555555555";
  const second = round(url.replace(ID, other), other);
  assert.deepEqual(second.kept, kept);
  assert.equal(second.url, url.replace(ID, other));
});

Deno.test("keepUrl keeps the whole URL when the id is not in it as such, or is short", () => {
  for (
    const [url, id] of [
      ["http://h/chsk?client-id=a%20b%20c%20d%20e", "a b c d e"], // percent-encoded in the URL
      ["http://h/chsk?client-id=c1", "c1"], // too short to be worth cutting out
      ["http://h/chsk?uid=7", ID], // not there at all
    ]
  ) {
    const { kept, url: again } = round(url, id);
    assert.deepEqual(kept, { head: url, tail: null });
    assert.equal(again, url);
  }
});

Deno.test("keepUrl cuts at the id's first occurrence and still gives the exact URL back", () => {
  const url = `http://h/${ID}/chsk?client-id=${ID}&x=${ID}`;
  const { kept, url: again } = round(url, ID);
  assert.equal(kept.head, "http://h/");
  assert.equal(again, url);
});
