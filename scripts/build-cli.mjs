// Builds the fillwatch CLI to bin/fillwatch.mjs (plain JavaScript for Node >= 20). Runs in
// `prepare`, so `npm install` / `npm ci` leave a working `npx fillwatch`. The version comes from
// package.json at build time (`fillwatch --version`).
import { build } from "esbuild";
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "bin", "fillwatch.mjs");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
mkdirSync(dirname(outfile), { recursive: true });
await build({
  entryPoints: [join(root, "worker", "cli", "fillwatch.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  banner: { js: "#!/usr/bin/env node" },
  define: { __FILLWATCH_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
});
chmodSync(outfile, 0o755);
