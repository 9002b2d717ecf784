// Builds the fillwatch CLI to bin/fillwatch.mjs (plain JavaScript for Node >= 20). Runs in
// `prepare`, so `npm install` / `npm ci` leave a working `npx fillwatch`. The version comes from
// package.json at build time (`fillwatch --version`).
import { build } from "esbuild";
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "bin", "fillwatch.mjs");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
mkdirSync(dirname(outfile), { recursive: true });
const result = await build({
  entryPoints: [join(root, "worker", "cli", "fillwatch.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  banner: { js: "#!/usr/bin/env node" },
  define: { __FILLWATCH_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
  write: false,
});
// Written to a temporary name and renamed, so a concurrent build never leaves a half-written bin.
const tmp = `${outfile}.${process.pid}.tmp`;
writeFileSync(tmp, result.outputFiles[0].contents);
chmodSync(tmp, 0o755);
renameSync(tmp, outfile);

// The bot-side reporter (report/reporter.ts) as plain JavaScript, so `import "fillwatch/report"` works
// from Node without type stripping (Node does not strip types under node_modules).
const report = await build({
  entryPoints: [join(root, "report", "reporter.ts")],
  bundle: true,
  platform: "neutral",
  target: "es2022",
  format: "esm",
  logLevel: "warning",
  write: false,
});
const reportFile = join(root, "bin", "report.mjs");
const reportTmp = `${reportFile}.${process.pid}.tmp`;
writeFileSync(reportTmp, report.outputFiles[0].contents);
renameSync(reportTmp, reportFile);
