/**
 * `fillwatch config check`: checks wrangler.toml and .dev.vars before deploying; prints the result
 * as one JSON object and each problem with its fix. Exit 0 ok, 2 when there are errors.
 */
import { readFileSync } from "node:fs";
import { checkConfigFiles } from "../../config.ts";
import { UsageError, type Command } from "../args.ts";
import { err, out } from "../output.ts";

export const configCheck: Command = {
  name: "config check",
  summary: "check wrangler.toml and .dev.vars before deploying",
  flags: [
    { name: "wrangler", value: "PATH", help: "the wrangler config (default wrangler.toml)", optional: true },
    { name: "dev-vars", value: "PATH", help: "the secrets file (default .dev.vars)", optional: true },
  ],
  async run(f) {
    const tomlPath = f.get("wrangler") ?? "wrangler.toml";
    const varsPath = f.get("dev-vars") ?? ".dev.vars";
    let toml: string;
    try {
      toml = readFileSync(tomlPath, "utf8");
    } catch {
      throw new UsageError(`cannot read ${tomlPath}`);
    }
    let vars: string | null = null;
    try {
      vars = readFileSync(varsPath, "utf8");
    } catch {
      err(`note: ${varsPath} not found; secrets are checked as missing`);
    }
    const r = checkConfigFiles(toml, vars);
    out(JSON.stringify(r));
    for (const p of r.problems) err(`${p.severity}: ${p.setting}: ${p.message} — fix: ${p.fix}`);
    return r.ok ? 0 : 2;
  },
};
