/**
 * Inline code spans in the README and docs/ stay on one line: a span split across lines renders
 * with a line break inside the code, and copy-paste gets a broken snippet.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** The inline code spans of `markdown` that cross a line break, as `line: text`. */
function splitSpans(markdown: string): string[] {
  const found: string[] = [];
  // Fenced blocks are code already; blank them out, keeping the line count.
  const text = markdown.replace(
    /^( *)(```|~~~)[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm,
    (m) => m.replace(/[^\n]/g, " "),
  );
  const span = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  for (const m of text.matchAll(span)) {
    if (m[2].includes("\n")) {
      const line = text.slice(0, m.index).split("\n").length;
      found.push(`${line}: ${m[0].replace(/\s+/g, " ")}`);
    }
  }
  return found;
}

Deno.test("splitSpans finds a span across lines and ignores fenced blocks", () => {
  assert.deepEqual(splitSpans("a `b\nc` d"), ["1: `b c`"]);
  assert.deepEqual(splitSpans("```ts\nconst a = `x\ny`;\n```\n`ok`"), []);
  // A fenced block indented inside a list item is code too.
  assert.deepEqual(splitSpans("- item:\n\n  ```ts\n  f(`x\n  y`);\n  ```\n"), []);
});

Deno.test("README.md and docs/*.md: no inline code span crosses a line", async () => {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  const problems: string[] = [];
  for (const file of files.sort()) {
    for (const at of splitSpans(await Deno.readTextFile(new URL(file, ROOT)))) {
      problems.push(`${file}:${at}`);
    }
  }
  assert.deepEqual(problems, []);
});
