/**
 * Fuzzing the exact JSON reader: it never throws anything but JsonSyntaxError (naming a position or
 * path), parse → print → parse is stable, and it agrees with JSON.parse on every input both accept
 * (integers compared as decimal strings; they differ only where JSON.parse rounds above 2^53).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonSyntaxError, parseExactJson, printExactJson, type ExactJson } from "../../../worker/lighter/json.ts";
import { RUNS, exactJsonArb, mutate, mutationsArb } from "./arbitraries.ts";

/** Exact and native values agree; integers compare as decimal strings. */
function agrees(exact: ExactJson, native: unknown): boolean {
  if (typeof exact === "bigint") {
    if (typeof native !== "number") return false;
    if (Math.abs(native) <= 2 ** 53) return Number.isInteger(native) && BigInt(native) === exact;
    return Number(exact) === native; // JSON.parse rounded
  }
  if (typeof exact === "number") return typeof native === "number" && Object.is(exact, native);
  if (exact === null || typeof exact !== "object") return exact === native;
  if (Array.isArray(exact))
    return Array.isArray(native) && native.length === exact.length && exact.every((x, i) => agrees(x, native[i]));
  if (typeof native !== "object" || native === null || Array.isArray(native)) return false;
  const nk = Object.keys(native).sort();
  const ek = Object.keys(exact).sort();
  return (
    nk.length === ek.length &&
    ek.every((k, i) => k === nk[i] && agrees(exact[k]!, (native as Record<string, unknown>)[k]))
  );
}

/** Structural equality, numbers by Object.is, bigints by value. */
function same(a: ExactJson, b: ExactJson): boolean {
  if (typeof a === "number") return typeof b === "number" && Object.is(a, b);
  if (a === null || typeof a !== "object") return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]!));
  if (b === null || typeof b !== "object" || Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k]!, b[k]!));
}

type Outcome = { ok: true; value: ExactJson } | { ok: false; error: JsonSyntaxError };

/** Runs the reader; anything but a JsonSyntaxError escapes and fails the property. */
function read(text: string): Outcome {
  try {
    return { ok: true, value: parseExactJson(text) };
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    expect(err.message).toMatch(/position \d+/);
    if (/is not allowed/.test(err.message)) expect(err.path).toMatch(/(__proto__|constructor|prototype)/);
    return { ok: false, error: err };
  }
}

function nativeParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function checkAgreement(text: string): void {
  const ours = read(text);
  const theirs = nativeParse(text);
  if (ours.ok && theirs.ok) expect(agrees(ours.value, theirs.value), text).toBe(true);
  // Everything we accept is JSON.
  if (ours.ok) expect(theirs.ok, text).toBe(true);
  if (ours.ok) {
    const printed = printExactJson(ours.value);
    const again = read(printed);
    expect(again.ok, printed).toBe(true);
    if (again.ok) {
      expect(same(ours.value, again.value), printed).toBe(true);
      expect(printExactJson(again.value)).toBe(printed);
    }
  }
}

describe("exact JSON reader (fuzz)", () => {
  it("arbitrary JSON text (fc.json): agrees with JSON.parse, stable through print", () => {
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), checkAgreement), { numRuns: RUNS });
  });

  it("arbitrary JSON values with random whitespace: agrees with JSON.parse", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(0, 1, 2, "\t"), (v, indent) =>
        checkAgreement(JSON.stringify(v, null, indent)),
      ),
      { numRuns: RUNS },
    );
  });

  it("exact trees (bigints beyond 2^53, doubles, odd strings): print → parse gives the tree back", () => {
    fc.assert(
      fc.property(exactJsonArb, (tree) => {
        const text = printExactJson(tree);
        const back = read(text);
        expect(back.ok, text).toBe(true);
        if (back.ok) expect(same(tree, back.value), text).toBe(true);
        checkAgreement(text);
      }),
      { numRuns: RUNS },
    );
  });

  it("mutated JSON: never a throw past the boundary; agrees whenever both accept", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          exactJsonArb.map(printExactJson),
          fc.json({ maxDepth: 3 }),
          fc.constant('{"a":[1,-0,1e999,"\\u00e9\\ud800",{"b":null}]}'),
        ),
        mutationsArb,
        (text, ms) => checkAgreement(mutate(text, ms)),
      ),
      { numRuns: RUNS },
    );
  });

  it("arbitrary strings: never a throw past the boundary", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        checkAgreement(s);
      }),
      { numRuns: RUNS },
    );
  });

  it("prototype keys anywhere are refused with their path", () => {
    fc.assert(
      fc.property(
        exactJsonArb,
        fc.constantFrom("__proto__", "constructor", "prototype"),
        fc.nat(),
        (tree, key, seed) => {
          // Our marker comes first, so the first "{}" in the text is ours.
          const text = printExactJson([{ [`k${seed % 7}`]: [{}] }, tree]).replace("{}", `{"${key}":${seed}}`);
          const r = read(text);
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.error.path.endsWith(`.${key}`)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
