import assert from "node:assert/strict";
import { formatIp, parseCidr, parseIp } from "../../lib/server/ip_address.ts";

const canonical = (text: string): string | null => {
  const bytes = parseIp(text);
  return bytes === null ? null : formatIp(bytes);
};

Deno.test("parseIp() reads IPv4 and IPv6 in every spelling, formatIp() writes one canonical form", () => {
  assert.equal(canonical("192.0.2.1"), "192.0.2.1");
  assert.equal(canonical("0.0.0.0"), "0.0.0.0");
  assert.equal(canonical("255.255.255.255"), "255.255.255.255");
  assert.equal(canonical("::ffff:192.0.2.1"), "192.0.2.1"); // IPv4-mapped is the IPv4 address
  assert.equal(canonical("::FFFF:c000:0201"), "192.0.2.1");
  assert.equal(canonical("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  assert.equal(canonical("2001:0db8::0001"), "2001:db8::1");
  assert.equal(canonical("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1"); // the longest run
  assert.equal(canonical("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1"); // the first of two
  assert.equal(canonical("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1"); // one zero stays
  assert.equal(canonical("::"), "::");
  assert.equal(canonical("::1"), "::1");
  assert.equal(canonical("1::"), "1::");
  assert.equal(canonical("fe80::1%eth0"), "fe80::1"); // the zone is ignored
  assert.equal(canonical("64:ff9b::192.0.2.1"), "64:ff9b::c000:201");
  assert.equal(canonical("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
});

Deno.test("parseIp() answers null for anything that is not exactly one address", () => {
  for (
    const bad of [
      "",
      "unknown",
      "_hidden",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4", // octal or decimal? neither
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.4:80", // a port is the header parser's business
      "[::1]",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1::",
      "1:::2",
      "12345::",
      "g::1",
      "::1%",
      "1:2:3:4:5:6:7::8",
      "::ffff:1.2.3",
      "1.2.3.4::",
      "a".repeat(100),
      "1.2.3.-4",
      "1e2.0.0.1",
    ]
  ) {
    assert.equal(parseIp(bad), null, JSON.stringify(bad));
  }
});

Deno.test("parseCidr() matches blocks by prefix; IPv4 blocks match IPv4-mapped peers too", () => {
  const ip = (t: string) => parseIp(t)!;
  const ten = parseCidr("10.0.0.0/8")!;
  assert.ok(ten.contains(ip("10.255.1.2")));
  assert.ok(ten.contains(ip("::ffff:10.0.0.1")));
  assert.ok(!ten.contains(ip("11.0.0.1")));
  const odd = parseCidr("172.16.0.0/12")!;
  assert.ok(odd.contains(ip("172.31.255.255")));
  assert.ok(!odd.contains(ip("172.32.0.0")));
  const one = parseCidr("127.0.0.1")!;
  assert.ok(one.contains(ip("127.0.0.1")));
  assert.ok(!one.contains(ip("127.0.0.2")));
  const v6 = parseCidr("fd00::/8")!;
  assert.ok(v6.contains(ip("fd12:3456::1")));
  assert.ok(!v6.contains(ip("fe80::1")));
  assert.ok(parseCidr("0.0.0.0/0")!.contains(ip("203.0.113.1")));
  assert.ok(!parseCidr("0.0.0.0/0")!.contains(ip("2001:db8::1")));
  assert.ok(parseCidr("::/0")!.contains(ip("2001:db8::1")));
  assert.ok(parseCidr("::1/128")!.contains(ip("::1")));
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/08", "x/8", "10/8", "::/-1"]) {
    assert.equal(parseCidr(bad), null, bad);
  }
});
