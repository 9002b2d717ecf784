/**
 * The checks every settings block of a monitor (`watch`, `bot`) makes the same way: a warning for
 * each unknown key, and a number in range (else an error naming the setting, and the default).
 */
import type { ExactJson } from "../lighter/json.ts";
import { describe } from "./alerts.ts";
import type { ConfigProblem } from "./types.ts";

type Block = { [key: string]: ExactJson };

/** Warns about every key of block `name` (at `at`, e.g. "MONITORS[0]") that is not in `known`. */
export function warnUnknownKeys(
  o: Block,
  known: ReadonlySet<string>,
  name: string,
  at: string,
  problems: ConfigProblem[],
): void {
  for (const k of Object.keys(o))
    if (!known.has(k))
      problems.push({
        severity: "warning",
        setting: `${at}.${name}.${k}`,
        message: `unknown setting ${name}.${k} is ignored`,
        fix: `remove it or check its spelling (known: ${[...known].join(", ")})`,
      });
}

/**
 * A reader of block `name`'s numbers: `num(k, min, max, def)` is `o[k]` when it is a number from
 * `min` to `max`, `def` when absent, else `def` and an error naming `<at>.<name>.<k>`.
 */
export function numberReader(
  o: Block,
  name: string,
  at: string,
  problems: ConfigProblem[],
): (k: string, min: number, max: number, def: number) => number {
  return (k, min, max, def) => {
    const v = o[k];
    if (v === undefined || v === null) return def;
    const n = typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : NaN;
    if (Number.isFinite(n) && n >= min && n <= max) return n;
    problems.push({
      severity: "error",
      setting: `${at}.${name}.${k}`,
      message: `${name}.${k} must be a number from ${min} to ${max}, not ${describe(v)}`,
      fix: `set ${name}.${k} in range`,
    });
    return def;
  };
}
