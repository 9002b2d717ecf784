/**
 * `fillwatch config check`, as a pure function: wrangler.toml (parsed with smol-toml) and .dev.vars
 * → every problem found, not just the first. Checks MONITORS (config.ts), each schedule against
 * [triggers] crons and the reserved housekeeping cron, URLs, secret references, secrets written
 * into [vars], and loopback URLs shipped to production. A hostile or binary file (over 1 MiB, NUL
 * bytes, invalid UTF-8) fails fast with one clear problem. Never throws.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { loadConfig } from "./config.ts";
import { ALERT_SECRET_PREFIX, PRIVATE_KEY_SECRET_PREFIX, READ_TOKEN_SECRET_PREFIX } from "./config/secrets.ts";
import { RESERVED_HOUSEKEEPING_CRON, normalizeCron, type ConfigProblem } from "./config/types.ts";
import { isLoopback } from "./config/urls.ts";

/** The largest wrangler.toml or .dev.vars `config check` reads. */
export const CONFIG_FILE_LIMIT = 1024 * 1024;

export interface ConfigCheckResult {
  ok: boolean;
  problems: ConfigProblem[];
}

const fileProblem = (file: string, message: string, fix: string): ConfigProblem => ({
  severity: "error",
  setting: file,
  message,
  fix,
});

/**
 * A config file's text, or the problem that makes it unreadable as one (too large, binary, not UTF-8).
 *
 * @example
 * decodeConfigText(new Uint8Array([0x61, 0]), "wrangler.toml") // { problem: { … "NUL byte" … } }
 */
export function decodeConfigText(
  data: Uint8Array | string,
  file: string,
): { text: string } | { problem: ConfigProblem } {
  const size = typeof data === "string" ? data.length : data.byteLength;
  if (size > CONFIG_FILE_LIMIT)
    return {
      problem: fileProblem(
        file,
        `${file} is larger than ${CONFIG_FILE_LIMIT} bytes: not a configuration file`,
        `check the path given for ${file}`,
      ),
    };
  const nul = typeof data === "string" ? data.indexOf("\u0000") : data.indexOf(0);
  if (nul >= 0)
    return {
      problem: fileProblem(
        file,
        `${file} holds a NUL byte at offset ${nul}: it is a binary file`,
        `check the path given for ${file}`,
      ),
    };
  if (typeof data === "string") return { text: data };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(data) };
  } catch {
    return {
      problem: fileProblem(file, `${file} is not valid UTF-8 text`, `save ${file} as UTF-8 (or check the path given)`),
    };
  }
}

/** .dev.vars (dotenv: NAME=value, # comments) → a null-prototype map of names to values. */
export function parseDevVars(text: string): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim().startsWith("#")) continue;
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))))
      v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function isSecretName(name: string): boolean {
  return (
    name === "API_TOKEN" ||
    name.startsWith("WATCH_INGEST_TOKEN__") ||
    name.startsWith(PRIVATE_KEY_SECRET_PREFIX) ||
    name.startsWith(READ_TOKEN_SECRET_PREFIX) ||
    name.startsWith(ALERT_SECRET_PREFIX)
  );
}

/** [triggers] crons → the list of cron strings, pushing problems about them. */
function readCrons(doc: Table, problems: ConfigProblem[]): string[] | null {
  const setting = "wrangler.toml [triggers] crons";
  const triggers = doc.triggers;
  const raw = isTable(triggers) ? triggers.crons : undefined;
  if (raw === undefined) {
    problems.push({
      severity: "error",
      setting,
      message: "no cron trigger: no check will ever run",
      fix: `add [triggers] crons = ["*/5 * * * *", "${RESERVED_HOUSEKEEPING_CRON}"]`,
    });
    return null;
  }
  if (!Array.isArray(raw) || !raw.every((c) => typeof c === "string")) {
    problems.push({
      severity: "error",
      setting,
      message: "crons must be a list of cron strings",
      fix: `e.g. crons = ["*/5 * * * *", "${RESERVED_HOUSEKEEPING_CRON}"]`,
    });
    return null;
  }
  const crons = raw as string[];
  crons.forEach((c, i) => {
    if (c.trim().split(/\s+/).length !== 5)
      problems.push({
        severity: "error",
        setting: `${setting}[${i}]`,
        message: `cron ${JSON.stringify(c.slice(0, 60))} is not a 5-field cron expression`,
        fix: 'use minute hour day month weekday, e.g. "*/5 * * * *"',
      });
  });
  const valid = crons.filter((c) => c.trim().split(/\s+/).length === 5);
  const checks = valid.filter((c) => normalizeCron(c) !== RESERVED_HOUSEKEEPING_CRON);
  if (checks.length === 0)
    problems.push({
      severity: "error",
      setting,
      message: `no check cron: "${RESERVED_HOUSEKEEPING_CRON}" is reserved for housekeeping, so no check will ever run`,
      fix: 'add a check cron, e.g. "*/5 * * * *"',
    });
  if (checks.length === valid.length)
    problems.push({
      severity: "warning",
      setting,
      message: `the housekeeping cron "${RESERVED_HOUSEKEEPING_CRON}" is missing: old checks and logs are never pruned`,
      fix: `add "${RESERVED_HOUSEKEEPING_CRON}" to crons`,
    });
  return crons;
}

/** [vars] MONITORS as the JSON text the Worker sees, or null (with a problem) when absent. */
function readMonitors(vars: Table | null, problems: ConfigProblem[]): string | null {
  const raw = vars?.MONITORS;
  if (typeof raw === "string") return raw;
  if (raw !== undefined && (Array.isArray(raw) || isTable(raw))) {
    try {
      return JSON.stringify(raw);
    } catch {
      // falls through to the problem below
    }
  }
  problems.push({
    severity: "error",
    setting: "wrangler.toml [vars] MONITORS",
    message:
      raw === undefined ? "no MONITORS in wrangler.toml [vars]" : "MONITORS must be a string holding a JSON list",
    fix: 'add MONITORS = \'[{"network":"testnet","account_index":…,"api_key_index":…}]\'',
  });
  return null;
}

/**
 * Checks wrangler.toml and .dev.vars (bytes as read, or text) and returns every problem.
 *
 * @example
 * checkConfigFiles(readFileSync("wrangler.toml"), null).ok
 */
export function checkConfigFiles(
  wranglerToml: Uint8Array | string,
  devVars: Uint8Array | string | null,
): ConfigCheckResult {
  const problems: ConfigProblem[] = [];
  const toml = decodeConfigText(wranglerToml, "wrangler.toml");
  if ("problem" in toml) return { ok: false, problems: [toml.problem] };
  let secrets: Record<string, string> = Object.create(null) as Record<string, string>;
  if (devVars !== null) {
    const dv = decodeConfigText(devVars, ".dev.vars");
    if ("problem" in dv) problems.push(dv.problem);
    else secrets = parseDevVars(dv.text);
  }
  let doc: Table;
  try {
    doc = parseToml(toml.text, { unsafeKeyBehaviour: "throw", maxDepth: 64 }) as Table;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    const what = err instanceof Error ? err.message.split("\n")[0]!.slice(0, 200) : "syntax error";
    problems.push(
      fileProblem("wrangler.toml", `wrangler.toml is not valid TOML${where}: ${what}`, "fix the TOML syntax"),
    );
    return { ok: false, problems };
  }
  const crons = readCrons(doc, problems);
  const vars = isTable(doc.vars) ? doc.vars : null;
  for (const name of Object.keys(vars ?? {}))
    if (isSecretName(name))
      problems.push({
        severity: "error",
        setting: `wrangler.toml [vars] ${name}`,
        message: `${name} is a secret but sits in [vars], in plain text in wrangler.toml`,
        fix: `remove it from [vars] and run: wrangler secret put ${name}`,
      });
  const monitors = readMonitors(vars, problems);
  if (monitors !== null) {
    const env = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(secrets)) env[k] = v;
    env.MONITORS = monitors;
    const r = loadConfig(env, crons ? { crons } : {});
    problems.push(...r.problems);
    for (const m of r.monitors) {
      for (const [k, u] of [
        ["rest_url", m.restUrl],
        ["ws_url", m.wsUrl],
      ] as const) {
        if (isLoopback(u))
          problems.push({
            severity: "error",
            setting: `MONITORS ${m.id} ${k}`,
            message: "wrangler.toml ships a loopback URL to production",
            fix: "keep local URLs out of wrangler.toml; npm start passes the simulator's URLs with --var",
          });
      }
    }
  }
  return { ok: !problems.some((p) => p.severity === "error"), problems };
}
