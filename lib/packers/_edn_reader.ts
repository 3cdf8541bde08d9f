// This module is browser compatible.
/**
 * An EDN reader with Clojure `read-string` semantics: it reads the first form only (leading
 * whitespace, commas and comments are skipped, trailing text is ignored), knows `#inst` and
 * `#uuid`, and throws a `SyntaxError` naming the offset for anything else it cannot read,
 * including unknown tags and unterminated input.
 *
 * We do not parse with edn-data 1.2.2: it returns `null` for truncated input (`"[1 2"`), drops the
 * odd element of a map, reads unknown tags as objects, and fails on trailing text with an
 * unrelated `TypeError`.
 *
 * @module
 */

import { describe, MAX_BIGINT_DIGITS, type ValueBuilder } from "./_values.ts";

/** How the reader builds values. */
export interface EdnReadOptions {
  /** Builds maps, keywords, sets and UUIDs. */
  builder: ValueBuilder;
  /** Deepest collection nesting read before giving up. */
  maxDepth: number;
}

// Whitespace (commas included) and the characters that end a token.
const WHITESPACE = /[\s,]/;
const DELIMITER = /[\s,";@^`~()[\]{}\\]/;
// The same two classes for ASCII as a table: a regex test per character made reading keywords and
// numbers ~3x slower than the rest (non-ASCII characters still go through the regexes).
const ASCII_WHITESPACE = 1;
const ASCII_DELIMITER = 2;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII_CLASS[c] = (WHITESPACE.test(ch) ? ASCII_WHITESPACE : 0) |
    (DELIMITER.test(ch) ? ASCII_DELIMITER : 0);
}

function isWhitespace(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 ? (ASCII_CLASS[c] & ASCII_WHITESPACE) !== 0 : WHITESPACE.test(text[i]);
}

function isDelimiter(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 ? (ASCII_CLASS[c] & ASCII_DELIMITER) !== 0 : DELIMITER.test(text[i]);
}
const INT = /^([-+]?)(?:(0|[1-9][0-9]*)|0[xX]([0-9A-Fa-f]+)|0([0-7]+))(N)?$/;
const FLOAT = /^[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?M?$/;
const RATIO = /^([-+]?[0-9]+)\/([0-9]+)$/;
const INST =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?)?)?(?:([Zz])|([-+])(\d{2}):(\d{2}))?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAMED_CHARS: Record<string, string> = {
  newline: "\n",
  space: " ",
  tab: "\t",
  backspace: "\b",
  formfeed: "\f",
  return: "\r",
};
const STRING_ESCAPES: Record<string, string> = {
  t: "\t",
  r: "\r",
  n: "\n",
  b: "\b",
  f: "\f",
  "\\": "\\",
  '"': '"',
};
const CLOSERS: Record<string, string> = { "[": "]", "(": ")", "{": "}" };
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Reads the first EDN form of `text`.
 *
 * @throws {SyntaxError} When the first form is missing, incomplete or not valid EDN.
 * @throws {TypeError} When a map key has no object-key form (see `maps` in the options).
 */
export function readEdn(text: string, options: EdnReadOptions): unknown {
  return new Reader(text, options).readFirst();
}

class Reader {
  #pos = 0;
  #depth = 0;
  readonly #text: string;
  readonly #builder: ValueBuilder;
  readonly #maxDepth: number;

  constructor(text: string, options: EdnReadOptions) {
    this.#text = text;
    this.#builder = options.builder;
    this.#maxDepth = options.maxDepth;
  }

  readFirst(): unknown {
    this.#skip();
    if (this.#pos >= this.#text.length) throw this.#error("no form to read (empty input)");
    return this.#readForm();
  }

  #error(message: string, at: number = this.#pos): SyntaxError {
    return new SyntaxError(`Invalid EDN at offset ${at}: ${message}`);
  }

  /** Skips whitespace, commas, `;` comments and `#_` discarded forms. */
  #skip(): void {
    const text = this.#text;
    while (this.#pos < text.length) {
      const c = text[this.#pos];
      if (isWhitespace(text, this.#pos)) {
        this.#pos++;
      } else if (c === ";") {
        const end = text.indexOf("\n", this.#pos);
        this.#pos = end === -1 ? text.length : end + 1;
      } else if (c === "#" && text[this.#pos + 1] === "_") {
        // `#_ #_ #_ …` and `#inst #inst …` recurse like collections do, so they count as depth.
        this.#enter();
        this.#pos += 2;
        this.#skip();
        if (this.#pos >= text.length) throw this.#error("#_ with nothing to discard");
        this.#readForm();
        this.#depth--;
      } else {
        return;
      }
    }
  }

  /** Reads one form starting at the current position (after `#skip`). */
  #readForm(): unknown {
    const text = this.#text;
    const start = this.#pos;
    const c = text[start];
    switch (c) {
      case '"':
        return this.#readString();
      case "[":
      case "(":
        return this.#readItems(c);
      case "{":
        return this.#builder.map(this.#checkEven(this.#readItems("{"), start));
      case "\\":
        return this.#readChar();
      case ":":
        return this.#readKeyword();
      case "#":
        return this.#readDispatch();
      case "]":
      case ")":
      case "}":
        throw this.#error(`unmatched delimiter ${c}`);
      case "'":
      case "`":
      case "~":
      case "@":
      case "^":
        throw this.#error(`reader macro ${c} is not EDN`);
    }
    return this.#readAtom(this.#readToken());
  }

  #readToken(): string {
    const text = this.#text;
    const start = this.#pos;
    while (this.#pos < text.length && !isDelimiter(text, this.#pos)) this.#pos++;
    return text.slice(start, this.#pos);
  }

  #readItems(open: string): unknown[] {
    const close = CLOSERS[open];
    const start = this.#pos;
    this.#enter();
    this.#pos++;
    const items: unknown[] = [];
    for (;;) {
      this.#skip();
      if (this.#pos >= this.#text.length) {
        throw this.#error(`unterminated ${open} (expected ${close})`, start);
      }
      const c = this.#text[this.#pos];
      if (c === close) break;
      if (c === "]" || c === ")" || c === "}") {
        throw this.#error(`unmatched delimiter ${c} inside ${open}`);
      }
      items.push(this.#readForm());
    }
    this.#pos++;
    this.#depth--;
    return items;
  }

  /** One level deeper (a collection, a discard or a tag); throws past `maxDepth`. */
  #enter(): void {
    if (++this.#depth > this.#maxDepth) {
      throw this.#error(`collections nested deeper than ${this.#maxDepth}`);
    }
  }

  #checkEven(items: unknown[], start: number): unknown[] {
    if (items.length % 2 !== 0) {
      throw this.#error("map literal must contain an even number of forms", start);
    }
    return items;
  }

  #readString(): string {
    const text = this.#text;
    const start = this.#pos;
    // Escapes are decoded into parts joined once: appending to a string per escape cost ~10x more.
    let parts: string[] | null = null;
    let pos = start + 1;
    let run = pos;
    for (;;) {
      let c = 0;
      while (pos < text.length && (c = text.charCodeAt(pos)) !== QUOTE && c !== BACKSLASH) pos++;
      if (pos >= text.length) throw this.#error("unterminated string", start);
      if (c === QUOTE) {
        this.#pos = pos + 1;
        if (parts === null) return text.slice(run, pos);
        parts.push(text.slice(run, pos));
        return parts.join("");
      }
      (parts ??= []).push(text.slice(run, pos));
      this.#pos = pos;
      const e = text[pos + 1];
      const simple = e === undefined ? undefined : STRING_ESCAPES[e];
      if (simple !== undefined) {
        parts.push(simple);
        pos += 2;
      } else if (e === "u") {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.#error(`invalid unicode escape \\u${hex}`);
        parts.push(String.fromCharCode(parseInt(hex, 16)));
        pos += 6;
      } else if (e !== undefined && e >= "0" && e <= "7") {
        const octal = /^[0-7]{1,3}/.exec(text.slice(pos + 1, pos + 4))![0];
        const code = parseInt(octal, 8);
        if (code > 0o377) throw this.#error(`octal escape \\${octal} out of range`);
        parts.push(String.fromCharCode(code));
        pos += 1 + octal.length;
      } else {
        throw this.#error(`unsupported escape \\${e ?? ""}`);
      }
      run = pos;
    }
  }

  #readChar(): string {
    const text = this.#text;
    const start = this.#pos++;
    if (this.#pos >= text.length) throw this.#error("backslash at end of input", start);
    // The first character belongs to the literal even when it is a delimiter, e.g. `\(`.
    const code = text.codePointAt(this.#pos)!;
    this.#pos += code > 0xffff ? 2 : 1;
    const token = text.slice(start + 1, this.#pos) + this.#readToken();
    if ([...token].length === 1) return token;
    if (token in NAMED_CHARS) return NAMED_CHARS[token];
    if (/^u[0-9a-fA-F]{4}$/.test(token)) return String.fromCharCode(parseInt(token.slice(1), 16));
    if (/^o[0-7]{1,3}$/.test(token) && parseInt(token.slice(1), 8) <= 0o377) {
      return String.fromCharCode(parseInt(token.slice(1), 8));
    }
    throw this.#error(`unsupported character \\${token}`, start);
  }

  #readKeyword(): unknown {
    const start = this.#pos++;
    const token = this.#readToken();
    if (token === "" || token.startsWith(":") || token.endsWith("/") || token.startsWith("/")) {
      throw this.#error(`invalid keyword :${token}`, start);
    }
    return this.#builder.keyword(token);
  }

  #readDispatch(): unknown {
    const text = this.#text;
    const start = this.#pos;
    const next = text[start + 1];
    if (next === "{") {
      this.#pos++;
      return this.#builder.set(this.#readItems("{"));
    }
    if (next === "#") {
      this.#pos += 2;
      const token = this.#readToken();
      if (token === "NaN") return NaN;
      if (token === "Inf") return Infinity;
      if (token === "-Inf") return -Infinity;
      throw this.#error(`unknown symbolic value ##${token}`, start);
    }
    this.#pos++;
    const tag = this.#readToken();
    if (tag === "" || !/^[A-Za-z]/.test(tag)) {
      throw this.#error(`unsupported dispatch #${next ?? ""}`, start);
    }
    if (tag !== "inst" && tag !== "uuid") throw this.#error(`unknown tag #${tag}`, start);
    this.#enter();
    this.#skip();
    if (this.#pos >= text.length) throw this.#error(`#${tag} without a value`, start);
    const value = this.#readForm();
    this.#depth--;
    if (typeof value !== "string") {
      throw this.#error(`#${tag} needs a string, got ${describe(value)}`, start);
    }
    if (tag === "uuid") {
      if (!UUID.test(value)) throw this.#error(`invalid #uuid ${JSON.stringify(value)}`, start);
      return this.#builder.uuid(value);
    }
    const date = parseInst(value);
    if (date === null) throw this.#error(`invalid #inst ${JSON.stringify(value)}`, start);
    return date;
  }

  #readAtom(token: string): unknown {
    switch (token) {
      case "nil":
        return null;
      case "true":
        return true;
      case "false":
        return false;
    }
    if (/^[-+]?[0-9]/.test(token)) return this.#readNumber(token);
    // Symbols have no JavaScript counterpart; they read as their text.
    return token;
  }

  #readNumber(token: string): number | bigint {
    const int = INT.exec(token);
    if (int) {
      const [, sign, dec, hex, oct, big] = int;
      const digits = dec ?? (hex ? `0x${hex}` : `0o${oct}`);
      if (big) {
        if (digits.length > MAX_BIGINT_DIGITS) {
          throw this.#error(
            `integer of more than ${MAX_BIGINT_DIGITS} digits`,
            this.#pos - token.length,
          );
        }
        return sign === "-" ? -BigInt(digits) : BigInt(digits);
      }
      const n = Number(digits);
      return sign === "-" && n !== 0 ? -n : n;
    }
    if (FLOAT.test(token)) return parseFloat(token.replace(/M$/, ""));
    const ratio = RATIO.exec(token);
    if (ratio) return Number(ratio[1]) / Number(ratio[2]);
    throw this.#error(`invalid number ${token}`, this.#pos - token.length);
  }
}

/** Parses RFC 3339 `#inst` text (date parts after the year optional), or returns `null`. */
function parseInst(text: string): Date | null {
  const m = INST.exec(text);
  if (!m) return null;
  const [, y, mo = "01", d = "01", h = "00", mi = "00", s = "00", frac = "", z, sign, oh, om] = m;
  const ms = Number((frac + "000").slice(0, 3));
  const parts = [Number(mo), Number(d), Number(h), Number(mi), Number(s)];
  const [month, day, hour, minute, second] = parts;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return null;
  }
  const date = new Date(0);
  date.setUTCFullYear(Number(y), month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  if (!z && sign) {
    const offset = (Number(oh) * 60 + Number(om)) * 60_000;
    date.setTime(date.getTime() - (sign === "-" ? -offset : offset));
  }
  return date;
}
