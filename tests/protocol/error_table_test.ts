import assert from "node:assert/strict";
import { PROTOCOL_ERRORS, type ProtocolErrorCode } from "../../lib/protocol/error_table.ts";
import { ProtocolError } from "../../lib/protocol/errors.ts";

const CODES = Object.keys(PROTOCOL_ERRORS) as ProtocolErrorCode[];

Deno.test("a ProtocolError is fatal, with the close code, exactly as PROTOCOL_ERRORS says", () => {
  for (const code of CODES) {
    const spec: { fatal: boolean; closeCode?: number } = PROTOCOL_ERRORS[code];
    const error = new ProtocolError(code, "m");
    assert.equal(error.fatal, spec.fatal, code);
    assert.equal(error.closeCode, spec.closeCode, code);
    assert.equal(error.code, code);
  }
});

Deno.test("docs/PROTOCOL.md §4 lists every code of PROTOCOL_ERRORS, fatal and close code alike", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
  const rows = new Map<string, { fatal: boolean; closeCode?: number }>();
  for (const m of doc.matchAll(/^\| `([a-z-]+)` +\| (yes|no) +\| (\d+|—) +\|/gm)) {
    rows.set(m[1], {
      fatal: m[2] === "yes",
      ...(m[3] === "—" ? {} : { closeCode: Number(m[3]) }),
    });
  }
  for (const code of CODES) {
    const { fatal, closeCode }: { fatal: boolean; closeCode?: number } = PROTOCOL_ERRORS[code];
    assert.deepEqual(
      rows.get(code),
      { fatal, ...(closeCode === undefined ? {} : { closeCode }) },
      code,
    );
  }
});
