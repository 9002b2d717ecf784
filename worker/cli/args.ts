/**
 * Argument parsing for the fillwatch CLI: each command declares its flags once (name, value
 * placeholder, help line); this module parses `--name value` / `--name=value` / boolean flags,
 * answers `--help`, refuses unknown flags with the closest known one suggested, and formats help.
 */

/** A usage or input error: printed as one line, exit 2. */
export class UsageError extends Error {}

export interface FlagSpec {
  name: string;
  /** Placeholder for the value (e.g. "HEX"); absent for a boolean flag. */
  value?: string;
  help: string;
  /** Shown in [brackets] in the synopsis (it has a default or an env var). */
  optional?: boolean;
}

export interface Command {
  /** "tx sign", "replay", ... */
  name: string;
  summary: string;
  /** Extra help text after the flag list. */
  details?: string;
  /** What exit 1 means for this command, when it can happen. */
  exit1?: string;
  flags: FlagSpec[];
  run(f: Flags): Promise<number>;
}

/** Parsed flags: string values, and `true` for boolean flags that were given. */
export class Flags {
  private readonly values: Map<string, string | true>;

  constructor(values: Map<string, string | true>) {
    this.values = values;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  get(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === "string" ? v : undefined;
  }

  need(name: string): string {
    const v = this.get(name);
    if (v === undefined || v === "") throw new UsageError(`missing --${name}`);
    return v;
  }
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate within a small edit distance (or sharing a prefix), if any. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  if (best === undefined) return undefined;
  if (bestD <= Math.max(2, Math.floor(best.length / 3))) return best;
  const prefix = candidates.filter((c) => word.length >= 3 && (c.startsWith(word) || word.startsWith(c)));
  return prefix.length === 1 ? prefix[0] : undefined;
}

/** A stray argument, shown only when it cannot be key material (short, or not hex-like). */
const show = (s: string) =>
  s.length <= 16 || !/^(0x)?[0-9a-f]+$/i.test(s)
    ? JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)
    : `(${s.length} characters, not shown)`;

/**
 * Parses a command's arguments. Returns "help" when --help / -h is among them.
 *
 * @example
 * parseFlags(["--account", "5"], [{ name: "account", value: "N", help: "" }]).get("account") // "5"
 */
export function parseFlags(args: string[], specs: FlagSpec[]): Flags | "help" {
  if (args.some((a) => a === "--help" || a === "-h")) return "help";
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--") || a === "--") throw new UsageError(`unexpected argument ${show(a)}`);
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const spec = byName.get(name);
    if (!spec) {
      const near = closest(
        name,
        specs.map((s) => s.name),
      );
      // Only the flag's name is echoed, never a value (it might be a key).
      throw new UsageError(`unknown flag --${name.slice(0, 40)}${near ? ` (did you mean --${near}?)` : ""}`);
    }
    if (out.has(name)) throw new UsageError(`--${name} is given twice`);
    if (spec.value === undefined) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      out.set(name, true);
      continue;
    }
    if (eq > 0) {
      out.set(name, a.slice(eq + 1));
      continue;
    }
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`--${name} needs a value (${spec.value})`);
    out.set(name, v);
    i++;
  }
  return new Flags(out);
}

/** An integer flag value in [min, max], exact (never through a JS number). */
export function intFlag(text: string, name: string, min: bigint, max: bigint): bigint {
  if (!/^-?\d{1,30}$/.test(text)) throw new UsageError(`--${name} must be an integer`);
  const v = BigInt(text);
  if (v < min || v > max) throw new UsageError(`--${name} must be from ${min} to ${max}`);
  return v;
}

/** The `fillwatch <command> --help` text. */
export function commandHelp(c: Command): string {
  const synopsis = c.flags
    .map((f) => {
      const text = f.value ? `--${f.name} ${f.value}` : `--${f.name}`;
      return f.optional ? `[${text}]` : text;
    })
    .join(" ");
  const width = Math.max(6, ...c.flags.map((f) => f.name.length + (f.value ? f.value.length + 1 : 0) + 2));
  const rows = [...c.flags, { name: "help", help: "show this help" } as FlagSpec].map(
    (f) => `  ${`--${f.name}${f.value ? ` ${f.value}` : ""}`.padEnd(width)}  ${f.help}`,
  );
  return [
    `fillwatch ${c.name} — ${c.summary}`,
    "",
    `Usage: fillwatch ${c.name}${synopsis ? ` ${synopsis}` : ""}`,
    "",
    "Flags:",
    ...rows,
    ...(c.details ? ["", c.details.trimEnd()] : []),
    "",
    "Results go to stdout; messages to stderr.",
    `Exit codes: 0 ok, ${c.exit1 ? `1 ${c.exit1}, ` : ""}2 usage or input error.`,
    "",
  ].join("\n");
}
