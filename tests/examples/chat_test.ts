/**
 * The chat example in headless Chromium: two pages join a room and see each other in presence,
 * exchange messages, one sees the other typing, and a third page joining gets the history.
 */
import assert from "node:assert/strict";
import { createChatServer } from "../../examples/chat/server.ts";
import { chatLogin, chatSay, NO_CHROMIUM, startExample } from "./_example.ts";

Deno.test({
  name: "chat example: presence, messages, typing and history in Chromium",
  ignore: NO_CHROMIUM,
  async fn() {
    const run = await startExample(createChatServer());
    try {
      const alice = await run.open("/");
      const bob = await run.open("/");
      await chatLogin(alice, "alice", "lobby");
      await chatLogin(bob, "bob", "lobby");
      await run.waitText(alice, "#members", "bob");
      await run.waitText(bob, "#members", "alice");

      await chatSay(alice, "hello bob");
      await run.waitText(bob, "#messages", "alice: hello bob");

      await bob.locator("#text").pressSequentially("hi al");
      await run.waitText(alice, "#typing", "bob typing");
      await bob.locator("#text").pressSequentially("ice");
      await bob.click("#say button");
      await run.waitText(alice, "#messages", "bob: hi alice");

      const carol = await run.open("/");
      await chatLogin(carol, "carol", "lobby");
      await run.waitText(carol, "#messages", "bob: hi alice");
      const lines = await carol.locator("#messages li").allTextContents();
      assert.deepEqual(lines, ["alice: hello bob", "bob: hi alice"]);
      await run.waitText(alice, "#members", "carol");

      // Another room has its own history and presence.
      await carol.fill("#room", "other"); // the name stays: it is the connection's uid
      await carol.click("#login button");
      await run.waitText(carol, "#title", "#other");
      await run.waitText(carol, "#members", "carol");
      assert.equal(await carol.locator("#messages li").count(), 0);
      await alice.waitForFunction(() =>
        !document.querySelector("#members")?.textContent?.includes("carol")
      );
    } finally {
      await run.close();
    }
  },
});

declare const document: { querySelector(s: string): { textContent: string | null } | null };
