/**
 * GET /status cost with 10 and 50 monitors in MONITORS, in a fresh workerd per size (the bench entry:
 * the real Worker with a metered FillMonitor). After two warm-up calls (the objects exist), CALLS
 * sequential calls: wall ms and workerd CPU ms per call, and the RPCs the objects received per call.
 * Baseline (same run): the 10-monitor size per monitor, so the ratio shows how the cost grows with
 * N (1.00x: linear). With FW_BENCH_STATUS_BASE=<git ref> the same calls also run against that ref's
 * code (exported with git archive, bundled there), and each size's row compares against it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadConfig, parseMonitors } from "../../worker/config.ts";
import type { BenchRow, BenchSuite } from "./types.ts";
import { apiOf, bundle, sumMeters, workerd, workerdUsage } from "./workerd/harness.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SIZES = [10, 50];
const CALLS = 20;
const ENTRY = "test/bench/workerd/entry.ts";

function monitors(n: number): string {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++)
    out.push({
      network: "custom",
      rest_url: "http://127.0.0.1:9",
      ws_url: "ws://127.0.0.1:9",
      chain_id: 300,
      account_index: 2_000_000 + i,
      api_key_index: 4,
      markets: [0],
      dry_run: true,
    });
  return JSON.stringify(out);
}

/** A temporary export of another commit (node_modules linked). */
function exportRef(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), "fw-status-base-"));
  const x = spawnSync("sh", ["-c", `git -C "${root}" archive "${ref}" | tar -x -C "${dir}"`], { encoding: "utf8" });
  if (x.status !== 0) throw new Error(`git archive ${ref} failed: ${x.stderr}`);
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** The bench entry of an exported commit, bundled there. */
function bundleAt(dir: string, ref: string): string {
  const out = join(dir, "dist");
  const b = spawnSync(join(root, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", out, ENTRY], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  if (b.status !== 0) throw new Error(`wrangler dry-run at ${ref} failed: ${b.stderr}`);
  return out;
}

interface Measured {
  wallMs: number;
  cpuMs: number;
  rpcs: number;
  kinds: Record<string, number>;
}

async function measure(out: string, n: number): Promise<Measured> {
  const before = new Set(workerdUsage().pids);
  const mf = workerd(out, { bindings: { MONITORS: monitors(n) }, script: "entry.js", className: "MeteredMonitor" });
  try {
    await mf.ready;
    const mine = workerdUsage().pids.filter((p) => !before.has(p));
    const api = apiOf(mf);
    for (let i = 0; i < 2; i++) {
      const body = await api("/status");
      const list = body.monitors as { valid: boolean; error?: string }[] | undefined;
      if (list?.length !== n || list.some((m) => !m.valid || m.error))
        throw new Error(`/status is not the bench's ${n} valid monitors: ${JSON.stringify(body).slice(0, 300)}`);
    }
    await api("/__bench/reset");
    const cpu0 = workerdUsage(mine).cpuUs;
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) await api("/status");
    const wallMs = (performance.now() - t0) / CALLS;
    const cpuMs = (workerdUsage(mine).cpuUs - cpu0) / 1000 / CALLS;
    const m = sumMeters((await api("/__bench/meters")) as never);
    const kinds = Object.fromEntries(
      Object.entries(m.requests)
        .filter(([k]) => k.startsWith("rpc."))
        .map(([k, v]) => [k, v / CALLS]),
    );
    return { wallMs, cpuMs, rpcs: Object.values(kinds).reduce((s, v) => s + v, 0), kinds };
  } finally {
    await mf.dispose();
  }
}

type Load = (env: Record<string, unknown>) => unknown;

/** Median ms per call of `fn` over `reps` calls, after a warm-up. */
function perCall(fn: () => void, reps: number): number {
  fn();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return xs.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

/**
 * loadConfig as every RPC's get() calls it, with FLEET monitors each naming an alert secret: a
 * repeated call (same MONITORS, same secrets) against a full parseMonitors of the same text, and
 * against the base ref's loadConfig when one is given.
 */
async function configRows(dir: string | null, ref: string | undefined): Promise<BenchRow[]> {
  const FLEET = 110;
  const list = JSON.parse(monitors(FLEET)) as Record<string, unknown>[];
  const raw = JSON.stringify(
    list.map((m, i) => ({ ...m, alerts: { targets: [{ type: "slack", url_secret: `ALERT_SLACK_${i}` }] } })),
  );
  const env: Record<string, unknown> = { MONITORS: raw, API_TOKEN: "bench" };
  for (let i = 0; i < FLEET; i += 2) env[`ALERT_SLACK_${i}`] = "https://hooks.example/x";
  const now = perCall(() => loadConfig(env), 2000);
  const parse = perCall(() => parseMonitors(raw), 50);
  const rows: BenchRow[] = [
    {
      suite: "status",
      name: `loadConfig per call, ${FLEET} monitors, unchanged input`,
      value: now,
      unit: "ms",
      baseline: { name: "parseMonitors of the same text", value: parse },
      ratio: now / parse,
    },
  ];
  if (dir) {
    const old = (await import(pathToFileURL(join(dir, "worker", "config.ts")).href)) as { loadConfig: Load };
    const before = perCall(() => old.loadConfig(env), 2000);
    rows.push({
      suite: "status",
      name: `loadConfig per call, ${FLEET} monitors, unchanged input (vs base)`,
      value: now,
      unit: "ms",
      baseline: { name: `${ref} (before)`, value: before },
      ratio: now / before,
    });
  }
  return rows;
}

const suite: BenchSuite = {
  name: "status",
  async run(): Promise<BenchRow[]> {
    const ref = process.env.FW_BENCH_STATUS_BASE;
    const now = bundle(ENTRY);
    const dir = ref ? exportRef(ref) : null;
    const base = dir && ref ? bundleAt(dir, ref) : null;
    const rows: BenchRow[] = await configRows(dir, ref);
    let small: Measured | null = null;
    for (const n of SIZES) {
      const after = await measure(now, n);
      const old = base ? await measure(base, n) : null;
      small ??= after;
      for (const [what, key] of [
        ["wall", "wallMs"],
        ["workerd CPU", "cpuMs"],
      ] as const) {
        const v = after[key];
        // Before/after when a base ref is given; else the smallest size scaled linearly.
        const b = old
          ? { name: `${ref} (before)`, value: old[key] }
          : n !== SIZES[0]
            ? { name: `${SIZES[0]} monitors x ${n / SIZES[0]!} (linear)`, value: (small[key] * n) / SIZES[0]! }
            : null;
        rows.push({
          suite: "status",
          name: `GET /status ${what} per call, ${n} monitors`,
          value: v,
          unit: "ms",
          ...(b ? { baseline: b, ratio: v / b.value } : {}),
          note:
            key === "wallMs"
              ? `RPCs per call ${after.rpcs}${old ? ` (before: ${old.rpcs})` : ""}; ${CALLS} calls`
              : "workerd process user+system CPU, 10 ms ticks",
        });
      }
    }
    return rows;
  },
};

export default suite;
