/**
 * `fillwatch config check`: checks wrangler.toml and .dev.vars before deploying with a real TOML
 * parser (worker/config-check.ts, files read bounded by worker/config/read-file.ts); prints the
 * result as one JSON object and each problem with its fix. Exit 0 ok, 2 when there are errors.
 */
import { runConfigCheck } from "../../config/read-file.ts";
import type { Command } from "../args.ts";
import { err, out } from "../output.ts";

export const configCheck: Command = {
  name: "config check",
  summary: "check wrangler.toml and .dev.vars before deploying",
  flags: [
    { name: "wrangler", value: "PATH", help: "the wrangler config (default wrangler.toml)", optional: true },
    { name: "dev-vars", value: "PATH", help: "the secrets file (default .dev.vars)", optional: true },
  ],
  async run(f) {
    const r = runConfigCheck(f.get("wrangler") ?? "wrangler.toml", f.get("dev-vars") ?? ".dev.vars");
    for (const n of r.notes) err(n);
    out(JSON.stringify({ ok: r.ok, problems: r.problems }));
    for (const p of r.problems) err(`${p.severity}: ${p.setting}: ${p.message} — fix: ${p.fix}`);
    return r.ok ? 0 : 2;
  },
};
