/**
 * A strict JSON reader that keeps integers exact: every integer literal becomes a bigint, other
 * numbers stay numbers. Lighter's tx_info carries int64 values (order indexes up to 2^60) that
 * native JSON.parse would round. Objects it builds have a null prototype, and the keys
 * `__proto__`, `constructor` and `prototype` are refused with an error naming their path, so no
 * setting can hide behind an inherited property. `printExactJson` is its inverse.
 */

export type ExactJson = null | boolean | string | number | bigint | ExactJson[] | { [key: string]: ExactJson };

export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
  /** Where the problem is, as a path from the root ("" for the root, e.g. `[0].alerts.__proto__`). */
  readonly path: string;
  constructor(message: string, path = "") {
    super(message);
    this.path = path;
  }
}

/** Keys that could reach an object's prototype chain in some consumer: never accepted. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const MAX_DEPTH = 64;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

function pathKey(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * @example
 * parseExactJson('{"Index":1152921504606846975}') // { Index: 1152921504606846975n }
 */
export function parseExactJson(text: string): ExactJson {
  let i = 0;
  const fail = (what: string, path = ""): never => {
    throw new JsonSyntaxError(`invalid JSON at position ${i}${path ? ` (${path})` : ""}: ${what}`, path);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
  };
  const value = (depth: number, path: string): ExactJson => {
    if (depth > MAX_DEPTH) fail("nested too deeply", path);
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = Object.create(null) as { [key: string]: ExactJson };
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key", path);
        const key = str(path);
        const at = pathKey(path, key);
        if (FORBIDDEN_KEYS.has(key)) fail(`the key "${key}" is not allowed`, at);
        ws();
        if (text[i] !== ":") fail("expected ':'", at);
        i++;
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate key ${JSON.stringify(key)}`, at);
        obj[key] = value(depth + 1, at);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'", path);
      }
    }
    if (c === "[") {
      i++;
      const arr: ExactJson[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1, `${path}[${arr.length}]`));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'", path);
      }
    }
    if (c === '"') return str(path);
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    return num(path);
  };
  const str = (path: string): string => {
    i++;
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string", path);
      const code = text.charCodeAt(i);
      if (code === 0x22) break;
      if (code < 0x20) fail("control character in string", path);
      if (code !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape", path);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && Object.prototype.hasOwnProperty.call(ESCAPES, e)) {
        out += ESCAPES[e];
        i += 2;
      } else fail("bad escape", path);
      start = i;
    }
    out += text.slice(start, i);
    i++;
    return out;
  };
  const num = (path: string): number | bigint => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail("unexpected character", path);
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) return BigInt(m[0]);
    return Number(m[0]);
  };
  const v = value(0, "");
  ws();
  if (i !== text.length) fail("trailing characters");
  return v;
}

/**
 * Prints an ExactJson value so that `parseExactJson` reads back the same value: bigints as integer
 * literals, numbers always with a fraction or exponent (so they stay numbers), ±Infinity as ±1e999.
 *
 * @example
 * printExactJson({ Index: 1152921504606846975n, x: 1 }) // '{"Index":1152921504606846975,"x":1.0}'
 */
export function printExactJson(v: ExactJson): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") {
    if (Number.isNaN(v)) throw new JsonSyntaxError("NaN has no JSON form");
    if (!Number.isFinite(v)) return v > 0 ? "1e999" : "-1e999";
    const s = JSON.stringify(v);
    return /[.eE]/.test(s) ? s : `${Object.is(v, -0) ? "-0" : s}.0`;
  }
  if (Array.isArray(v)) return `[${v.map(printExactJson).join(",")}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${printExactJson(v[k]!)}`)
    .join(",")}}`;
}
