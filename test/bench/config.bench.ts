/**
 * `config check` benchmark: checkConfigFiles on a generated 200,000-line wrangler.toml (the shipped
 * file padded with blank lines and a few comments; target under 1 s), against smol-toml's parse of the same
 * text alone as the same-run baseline. Also the time to refuse a 1 MiB binary file.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { CONFIG_FILE_LIMIT, checkConfigFiles } from "../../worker/config-check.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeMs(fn: () => void, reps: number): number {
  fn(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

/** The shipped wrangler.toml with a filled-in account, padded to `lines` lines. */
function bigToml(lines: number): string {
  const base = readFileSync(join(root, "wrangler.toml"), "utf8").replace('"account_index":0', '"account_index":123456');
  const pad = lines - base.split("\n").length;
  const filler = Array.from({ length: pad }, (_, i) => (i % 100 === 0 ? `# padding ${i}` : "")).join("\n");
  return `${filler}\n${base}`;
}

const suite: BenchSuite = {
  name: "config",
  async run(): Promise<BenchRow[]> {
    const text = bigToml(200_000);
    const devVars = "API_TOKEN=x\nLIGHTER_PRIVATE_KEY__TESTNET_123456_3=0x00\n";
    const bytes = new TextEncoder().encode(text);
    const r = checkConfigFiles(bytes, devVars);
    if (!r.ok) throw new Error(`bench config is not valid: ${JSON.stringify(r.problems)}`);
    const check = timeMs(() => checkConfigFiles(bytes, devVars), 5);
    const parseOnly = timeMs(() => parseToml(text), 5);
    const binary = new Uint8Array(CONFIG_FILE_LIMIT).fill(0x41);
    binary[CONFIG_FILE_LIMIT - 1] = 0;
    const refuse = timeMs(() => checkConfigFiles(binary, null), 5);
    return [
      {
        suite: "config",
        name: `config check, 200k-line wrangler.toml (${(bytes.length / 1024).toFixed(0)} KiB)`,
        value: check,
        unit: "ms",
        baseline: { name: "smol-toml parse alone", value: parseOnly },
        ratio: check / parseOnly,
        note: check < 1000 ? "target < 1 s: met" : "target < 1 s: MISSED",
      },
      {
        suite: "config",
        name: "config check refuses a 1 MiB binary file",
        value: refuse,
        unit: "ms",
      },
    ];
  },
};
export default suite;
