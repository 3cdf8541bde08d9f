/**
 * The demo page in headless Chromium: two named pages join a room and see each other in presence,
 * exchange messages, one drops its connection and gets what was said meanwhile after the resume,
 * ping, a server→client request answered on the page, a burst of pushes, the wire chart, and a
 * refused name.
 */
import assert from "node:assert/strict";
import { createDemoServer } from "../../lib/demo/demo.ts";
import { chatLogin, chatSay, NO_CHROMIUM, startExample, STEP_MS } from "../examples/_example.ts";

Deno.test({
  name: "demo page: names, presence, resume after a drop, ping, server question, wire chart",
  ignore: NO_CHROMIUM,
  async fn() {
    const server = createDemoServer();
    const run = await startExample(server);
    try {
      const alice = await run.open("/");
      const bob = await run.open("/");
      await chatLogin(alice, "alice", "lobby");
      await run.waitText(alice, "#state", "open");
      await run.waitText(alice, "#uid", "alice");
      await chatLogin(bob, "bob", "lobby");
      await run.waitText(alice, "#members", "bob");
      await run.waitText(bob, "#members", "alice");

      await chatSay(bob, "hello alice");
      await run.waitText(alice, "#messages", "bob: hello alice");

      // Alice drops her connection; Bob talks meanwhile; Alice gets it after the resume.
      await alice.click("#drop");
      await run.waitText(alice, "#state", "closed");
      await chatSay(bob, "said while you were away");
      await run.waitText(bob, "#messages", "bob: said while you were away");
      await alice.click("#drop");
      await run.waitText(alice, "#resume", "resumed: nothing lost");
      await run.waitText(
        alice,
        "#messages",
        "bob: said while you were away (sent while you were away)",
      );
      await run.waitText(alice, "#state", "open");
      assert.ok(server.stats().resumed >= 1, "the server counted the resume");

      await alice.click("#ping");
      await run.waitText(alice, "#ping-result", "pong in");

      await alice.click("#ask");
      await run.waitText(alice, "#question-text", "The server asks: Hello alice");
      await alice.click("#yes");
      await run.waitText(alice, "#answer", 'the server heard "yes"');

      await bob.click("#burst");
      await run.waitText(bob, "#burst-result", "20 / 20 pushes received");

      await bob.waitForFunction(
        () =>
          (document.querySelector("#line-before")?.getAttribute("points") ?? "").split(" ")
            .length >= 2,
        undefined,
        { timeout: STEP_MS, polling: 100 },
      );
      await run.waitText(bob, "#wire", "compressed");
    } finally {
      await run.close();
    }
  },
});

Deno.test({
  name: "demo page: an empty or invalid name is refused with 4001 and the page says why",
  ignore: NO_CHROMIUM,
  async fn() {
    const run = await startExample(createDemoServer());
    try {
      const page = await run.open("/");
      await chatLogin(page, "  ", "lobby");
      await run.waitText(page, "#login-error", "Refused: pick a name first");
      await run.waitText(page, "#state", "failed");
      await chatLogin(page, "no/slashes", "lobby");
      await run.waitText(page, "#login-error", "Refused: a name is 1–24 letters");
      await chatLogin(page, "carol", "lobby"); // then a good name works
      await run.waitText(page, "#uid", "carol");
      await run.waitText(page, "#members", "carol");
    } finally {
      await run.close();
    }
  },
});

// The page callbacks run in Chromium, where `document` exists; declared here for the types.
declare const document: {
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
};
