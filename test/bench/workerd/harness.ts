/**
 * Bundles Workers for the benches and runs them in workerd through Miniflare at the version
 * wrangler brings: the one `wrangler deploy --dry-run` bundler, the Miniflare setup every bench
 * shares, and the bench entry (entry.ts: the real Worker with a metered FillMonitor), started with
 * the MONITORS and secrets given, triggered by cron, its meters, CPU time and memory read (/proc).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const bundles = new Map<string, string>();

/**
 * Bundles a Worker with `wrangler deploy --dry-run`, once per entry and bench run: the real Worker
 * (wrangler.toml's main, `index.js`) by default, or another entry such as the metered bench entry.
 */
export function bundle(entry?: string): string {
  const key = entry ?? "";
  const cached = bundles.get(key);
  if (cached) return cached;
  const out = mkdtempSync(join(tmpdir(), "fw-bench-"));
  const b = spawnSync(
    join(root, "node_modules", ".bin", "wrangler"),
    ["deploy", "--dry-run", "--outdir", out, ...(entry ? [entry] : [])],
    {
      cwd: root,
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_HIDE_BANNER: "true",
      },
    },
  );
  if (b.status !== 0) throw new Error(`wrangler dry-run failed: ${b.stderr}`);
  bundles.set(key, out);
  return out;
}

/**
 * A bundle running in workerd through Miniflare, bound as wrangler.toml binds it (the FillMonitor
 * namespace with SQLite, the MANUAL_RUNS limiter, API_TOKEN "bench"); `className` picks the object
 * class (the bench entry's MeteredMonitor), `script` the bundle's file.
 */
export function workerd(
  out: string,
  o: { bindings: Record<string, string>; name?: string; script?: string; className?: string },
): Miniflare {
  return new Miniflare(
    convertV4MiniflareOptions({
      name: o.name ?? "bench",
      modules: true,
      scriptPath: join(out, o.script ?? "index.js"),
      modulesRoot: out,
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      durableObjects: { FILL_MONITOR: { className: o.className ?? "FillMonitor", useSQLite: true } },
      // The edge burst limiter of POST /checks/run (wrangler.toml [[ratelimits]]); the object keeps the exact budget.
      ratelimits: { MANUAL_RUNS: { namespace_id: "1001", simple: { limit: 100, period: 60 } } },
      bindings: { API_TOKEN: "bench", ...o.bindings },
    } as never),
  );
}

/** The API of a Miniflare instance, as JSON, with the bench's bearer token. */
export function apiOf(mf: Miniflare): (path: string, init?: RequestInit) => Promise<Record<string, unknown>> {
  return async (path, init = {}) => {
    const res = await mf.dispatchFetch(`http://bench${path}`, {
      ...init,
      headers: { Authorization: "Bearer bench", ...(init.headers as Record<string, string> | undefined) },
    } as never);
    return (await res.json()) as Record<string, unknown>;
  };
}

export interface ObjectMeter {
  requests: Record<string, number>;
  activeMs: number;
  statements: number;
  writeStatements: number;
  rowsRead: number;
  rowsWritten: number;
  inFlight: number;
}

export interface Meters {
  objects: Record<string, ObjectMeter>;
  invocations: { cron: string; ms: number }[];
}

/** CPU (user + system, µs) and memory of the workerd processes this Node process started. */
export function workerdUsage(only?: readonly number[]): { cpuUs: number; rssKb: number; pids: number[] } {
  const hz = 100;
  let cpuUs = 0;
  let rssKb = 0;
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      if (!comm.startsWith("workerd") || Number(f[1]) !== process.pid) continue;
      if (only && !only.includes(Number(d))) continue;
      pids.push(Number(d));
      cpuUs += ((Number(f[11]) + Number(f[12])) * 1e6) / hz;
      const status = readFileSync(`/proc/${d}/status`, "utf8");
      rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // the process ended meanwhile
    }
  }
  return { cpuUs, rssKb, pids };
}

export interface Bench {
  mf: Miniflare;
  meters(): Promise<Meters>;
  reset(): Promise<void>;
  cron(scheduledTime: number, cron?: string): Promise<void>;
  /** CPU (µs) and RSS (kB) of this instance's workerd process. */
  usage(): { cpuUs: number; rssKb: number };
  api(path: string, init?: RequestInit): Promise<Record<string, unknown>>;
  dispose(): Promise<void>;
}

export async function startBench(bindings: Record<string, string>): Promise<Bench> {
  const out = bundle("test/bench/workerd/entry.ts");
  const before = new Set(workerdUsage().pids);
  const mf = workerd(out, { bindings, script: "entry.js", className: "MeteredMonitor" });
  await mf.ready;
  const mine = workerdUsage().pids.filter((p) => !before.has(p));
  const json = apiOf(mf);
  return {
    mf,
    meters: async () => (await json("/__bench/meters")) as unknown as Meters,
    reset: async () => {
      await json("/__bench/reset");
    },
    cron: async (scheduledTime, cron = "* * * * *") => {
      const w = await mf.getWorker();
      await w.scheduled({ scheduledTime: new Date(scheduledTime), cron });
    },
    usage: () => workerdUsage(mine),
    api: json,
    dispose: () => mf.dispose(),
  };
}

export function sumMeters(m: Meters): ObjectMeter & { objects: number } {
  const s = {
    requests: {} as Record<string, number>,
    activeMs: 0,
    statements: 0,
    writeStatements: 0,
    rowsRead: 0,
    rowsWritten: 0,
    inFlight: 0,
    objects: 0,
  };
  for (const o of Object.values(m.objects)) {
    s.objects++;
    s.activeMs += o.activeMs;
    s.statements += o.statements;
    s.writeStatements += o.writeStatements;
    s.rowsRead += o.rowsRead;
    s.rowsWritten += o.rowsWritten;
    s.inFlight += o.inFlight;
    for (const [k, v] of Object.entries(o.requests)) s.requests[k] = (s.requests[k] ?? 0) + v;
  }
  return s;
}

export function totalRequests(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
