/**
 * A strict JSON reader that keeps integers exact: every integer literal becomes a bigint, other
 * numbers stay numbers. Lighter's tx_info carries int64 values (order indexes up to 2^60) that
 * native JSON.parse would round.
 */

export type ExactJson = null | boolean | string | number | bigint | ExactJson[] | { [key: string]: ExactJson };

export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
}

/**
 * @example
 * parseExactJson('{"Index":1152921504606846975}') // { Index: 1152921504606846975n }
 */
export function parseExactJson(text: string): ExactJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`invalid JSON at position ${i}: ${what}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  const value = (depth: number): ExactJson => {
    if (depth > 64) fail("nested too deeply");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: { [key: string]: ExactJson } = {};
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const key = str();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate key "${key}"`);
        obj[key] = value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
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
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
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
    return num();
  };
  const str = (): string => {
    const start = i;
    i++;
    let raw = false;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") {
        raw = true;
        i += 2;
      } else {
        if (text.charCodeAt(i) < 0x20) fail("control character in string");
        i++;
      }
    }
    if (i >= text.length) fail("unterminated string");
    i++;
    const lit = text.slice(start, i);
    return raw ? (JSON.parse(lit) as string) : lit.slice(1, -1);
  };
  const num = (): number | bigint => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) fail("unexpected character");
    i += m![0].length;
    if (m![2] === undefined && m![3] === undefined) return BigInt(m![0]);
    return Number(m![0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail("trailing characters");
  return v;
}
