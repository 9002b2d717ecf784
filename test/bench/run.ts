/**
 * `npm run bench [suite ...]`: runs the benchmark suites (test/bench/*.bench.ts), prints one table
 * and writes bench-results/bench.json. Speed and memory live here, never in timed tests.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchRow, BenchSuite } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const wanted = new Set(process.argv.slice(2));

const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .sort();
const rows: BenchRow[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: BenchSuite };
  if (wanted.size > 0 && !wanted.has(mod.default.name)) continue;
  process.stderr.write(`bench: ${mod.default.name} ...\n`);
  rows.push(...(await mod.default.run()));
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));
const table = rows.map((r) => ({
  suite: r.suite,
  name: r.name,
  value: `${fmt(r.value)} ${r.unit}`,
  baseline: r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : "",
  ratio: r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x`,
  note: r.note ?? "",
}));
const cols = ["suite", "name", "value", "baseline", "ratio", "note"] as const;
const widths = cols.map((c) => Math.max(c.length, ...table.map((t) => t[c].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ");
console.log(line([...cols]));
console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
for (const t of table) console.log(line(cols.map((c) => t[c])));

mkdirSync(join(root, "bench-results"), { recursive: true });
const out = join(root, "bench-results", "bench.json");
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2));
console.log(`\nwritten ${out}`);
