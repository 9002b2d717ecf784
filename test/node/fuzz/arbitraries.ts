/**
 * Shared fast-check generators for the fuzz tests: exact-JSON trees (bigints beyond 2^53, doubles,
 * odd strings), text mutations, and a deep-set helper for structured near-valid inputs.
 */
import fc from "fast-check";
import { FORBIDDEN_KEYS, type ExactJson } from "../../../worker/lighter/json.ts";

/** At least this many runs per property (issue 10). */
export const RUNS = 1000;

const keyArb = fc
  .oneof(fc.string({ maxLength: 6 }), fc.string({ unit: "binary", maxLength: 6 }), fc.constantFrom("a", "0", "10", "é"))
  .filter((k) => !FORBIDDEN_KEYS.has(k));

export const exactJsonArb: fc.Arbitrary<ExactJson> = fc.letrec<{ value: ExactJson }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
    fc.double({ noNaN: true }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.uniqueArray(fc.tuple(keyArb, tie("value")), { maxLength: 4, selector: (e) => e[0] }).map((entries) => {
      const o = Object.create(null) as { [k: string]: ExactJson };
      for (const [k, v] of entries) o[k] = v;
      return o;
    }),
  ),
})).value;

/** Characters that matter to JSON (and a few that break it). */
const JSON_CHARS = [...'{}[],:"\\ \n\t0123456789-+.eEtrufalsn', "\u0000", "\u001f", "\ud800", "é", "/", "u"];

export interface Mutation {
  at: number;
  op: "insert" | "delete" | "replace";
  ch: string;
}

export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.array(
  fc.record({
    at: fc.nat(),
    op: fc.constantFrom("insert" as const, "delete" as const, "replace" as const),
    ch: fc.oneof(fc.constantFrom(...JSON_CHARS), fc.string({ unit: "binary", minLength: 1, maxLength: 2 })),
  }),
  { minLength: 1, maxLength: 4 },
);

export function mutate(text: string, ms: Mutation[]): string {
  let s = text;
  for (const m of ms) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    if (m.op === "insert") s = s.slice(0, at) + m.ch + s.slice(at);
    else if (m.op === "delete") s = s.slice(0, at) + s.slice(at + 1);
    else s = s.slice(0, at) + m.ch + s.slice(at + 1);
  }
  return s;
}

/** A copy of `root` with the value at `path` (keys and list indexes) replaced. */
export function setPath(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...(root as unknown[])];
    copy[head as number] = setPath(copy[head as number], rest, value);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
  copy[head as string] = setPath(copy[head as string], rest, value);
  return copy;
}

/** JSON.stringify that writes bigints as integer literals. */
export function stringifyBig(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `\u0000big:${x.toString()}` : x)).replace(
    /"\\u0000big:(-?\d+)"/g,
    "$1",
  );
}
