import assert from "node:assert/strict";
import { isLoopbackHost, originAllowed } from "../../lib/server/origin.ts";

const req = (url: string, origin?: string) =>
  new Request(url, { headers: origin ? { origin } : {} });

Deno.test("originAllowed() default: any origin on loopback, same origin elsewhere", () => {
  assert.ok(originAllowed(req("http://127.0.0.1:3000/chsk", "http://evil.example"), undefined));
  assert.ok(originAllowed(req("http://localhost:3000/chsk", "http://evil.example"), undefined));
  assert.ok(originAllowed(req("https://app.example/chsk", "https://app.example"), undefined));
  assert.equal(
    originAllowed(req("https://app.example/chsk", "https://evil.example"), undefined),
    false,
  );
  assert.equal(originAllowed(req("https://app.example/chsk", "not a url"), undefined), false);
  // Non-browser clients send no Origin: CSWSH needs a browser, so they pass.
  assert.ok(originAllowed(req("https://app.example/chsk"), undefined));
});

Deno.test("originAllowed() honours '*', a list and a predicate", () => {
  const r = req("https://app.example/chsk", "https://other.example");
  assert.ok(originAllowed(r, "*"));
  assert.ok(originAllowed(r, ["https://other.example"]));
  assert.equal(originAllowed(r, ["https://app.example"]), false);
  assert.ok(originAllowed(r, (o) => o.endsWith(".example")));
});

Deno.test("isLoopbackHost() knows loopback names and addresses", () => {
  for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "app.localhost"]) {
    assert.ok(isLoopbackHost(h), h);
  }
  assert.equal(isLoopbackHost("example.com"), false);
});
