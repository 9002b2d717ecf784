/**
 * `fillwatch replay` memory on a large input: peak RSS of the built CLI replaying 500 MB of
 * generated NDJSON (book updates, account order updates, stored {at, dir, frame} records, pings,
 * junk lines), against the same run's baseline: the peak RSS of `node -e` reading the same file
 * with a plain stream and discarding it. Target: under 200 MB. The input is generated in a temp
 * dir and deleted afterwards. FILLWATCH_BENCH_REPLAY_MB changes the size.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchRow, BenchSuite } from "./types.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "fillwatch.mjs");
const TARGET_MB = 200;

/** Writes about `mb` MB of frames; returns the line count. */
function generate(file: string, mb: number): number {
  const fd = openSync(file, "w");
  const limit = mb * 1024 * 1024;
  let written = 0;
  let lines = 0;
  const nonce = [100, 100, 100, 100];
  let batch: string[] = [];
  let batchSize = 0;
  const push = (l: string) => {
    batch.push(l, "\n");
    batchSize += l.length + 1;
    lines++;
  };
  for (let m = 0; m < 4; m++)
    push(
      `{"channel":"order_book:${m}","offset":1,"order_book":{"code":0,"asks":[{"price":"2325.00","size":"1.0000"}],"bids":[{"price":"2300.00","size":"1.0000"}],"offset":1,"nonce":100,"begin_nonce":0},"type":"subscribed/order_book"}`,
    );
  for (let i = 0; written < limit; i++) {
    const m = i % 4;
    const level = (k: number) => `{"price":"${2300 + ((i * 7 + k) % 50)}.00","size":"${(i + k) % 3}.0000"}`;
    const update = `{"channel":"order_book:${m}","offset":${i + 2},"order_book":{"code":0,"asks":[${level(60)},${level(61)}],"bids":[${level(1)},${level(2)},${level(3)}],"offset":${i + 2},"nonce":${nonce[m]! + 1},"begin_nonce":${nonce[m]}},"type":"update/order_book"}`;
    nonce[m]!++;
    const r = i % 20;
    if (r === 0) push(JSON.stringify({ at: 1767225600000 + i, dir: "in", frame: update }));
    else push(update);
    if (r === 5) {
      const oi = 281474976710656n + BigInt(i % 1000);
      push(
        `{"type":"update/account_orders","channel":"account_orders:${m}","account":7,"orders":{"${m}":[{"order_index":${oi},"order_id":"${oi}","client_order_index":${(i % 1000) + 1},"client_order_id":"${(i % 1000) + 1}","market_index":${m},"owner_account_index":7,"filled_base_amount":"0.00${i % 10}0","filled_quote_amount":"0","status":"${i % 3 ? "open" : "filled"}"}]}}`,
      );
    }
    if (r === 9) push('{"type":"ping"}');
    if (r === 13) push("junk line from a log prefix");
    if (batchSize >= 8 * 1024 * 1024) {
      written += writeSync(fd, batch.join(""));
      batch = [];
      batchSize = 0;
    }
  }
  if (batchSize) writeSync(fd, batch.join(""));
  closeSync(fd);
  return lines;
}

/** Runs node with a preload that reports the process's peak RSS (KB) on exit; returns MB and seconds. */
function peak(preload: string, args: string[]): { mb: number; s: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--require", preload, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  const s = (performance.now() - t0) / 1000;
  const m = /PEAK_RSS_KB (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${args.join(" ")} failed (${r.status}): ${r.stderr.slice(0, 500)}`);
  return { mb: Number(m[1]) / 1024, s, stderr: r.stderr.replace(/\n?PEAK_RSS_KB \d+\n/, "") };
}

const suite: BenchSuite = {
  name: "replay",
  async run(): Promise<BenchRow[]> {
    const b = spawnSync(process.execPath, [join(root, "scripts", "build-cli.mjs")], { encoding: "utf8" });
    if (b.status !== 0) throw new Error(`CLI build failed: ${b.stderr}`);
    const mb = Number(process.env.FILLWATCH_BENCH_REPLAY_MB ?? 500);
    const dir = mkdtempSync(join(tmpdir(), "fw-bench-replay-"));
    try {
      const file = join(dir, "frames.ndjson");
      const preload = join(dir, "peak.cjs");
      writeFileSync(
        preload,
        'process.on("exit", () => require("fs").writeSync(2, `\\nPEAK_RSS_KB ${process.resourceUsage().maxRSS}\\n`));\n',
      );
      const lines = generate(file, mb);
      const size = statSync(file).size / (1024 * 1024);
      const base = peak(preload, [
        "-e",
        `require("fs").createReadStream(${JSON.stringify(file)}).on("data", () => {})`,
      ]);
      const rep = peak(preload, [bin, "replay", "--file", file]);
      const note = `${size.toFixed(0)} MB, ${lines} lines, node ${process.version}`;
      return [
        {
          suite: "replay",
          name: `fillwatch replay peak RSS (${size.toFixed(0)} MB NDJSON)`,
          value: rep.mb,
          unit: "MB",
          baseline: { name: "plain stream read (node -e)", value: base.mb },
          ratio: rep.mb / base.mb,
          note: `${rep.mb < TARGET_MB ? "under" : "OVER"} the ${TARGET_MB} MB target; ${note}`,
        },
        {
          suite: "replay",
          name: "fillwatch replay throughput",
          value: size / rep.s,
          unit: "MB/s",
          baseline: { name: "plain stream read (node -e)", value: size / base.s },
          ratio: size / rep.s / (size / base.s),
          note: "wall clock incl. process start; output to /dev/null",
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
