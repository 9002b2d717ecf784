/**
 * Runs the bench entry (entry.ts: the real Worker with a metered FillMonitor) in workerd through
 * Miniflare at the version wrangler brings: bundles it with `wrangler deploy --dry-run`, starts it
 * with the MONITORS and secrets given, triggers cron invocations, and reads the meters, the CPU
 * time and the memory of the workerd process (from /proc).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
let built: string | null = null;

/** Bundles entry.ts once per bench run. */
export function buildEntry(): string {
  if (built) return built;
  const out = mkdtempSync(join(tmpdir(), "fw-bench-"));
  const b = spawnSync(
    join(root, "node_modules", ".bin", "wrangler"),
    ["deploy", "--dry-run", "--outdir", out, "test/bench/workerd/entry.ts"],
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
  built = out;
  return out;
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
  const out = buildEntry();
  const before = new Set(workerdUsage().pids);
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      name: "bench",
      modules: true,
      scriptPath: join(out, "entry.js"),
      modulesRoot: out,
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      durableObjects: { FILL_MONITOR: { className: "MeteredMonitor", useSQLite: true } },
      ratelimits: { MANUAL_RUNS: { namespace_id: "1001", simple: { limit: 100, period: 60 } } },
      bindings: { API_TOKEN: "bench", ...bindings },
    } as never),
  );
  await mf.ready;
  const mine = workerdUsage().pids.filter((p) => !before.has(p));
  const json = async (path: string, init: RequestInit = {}) => {
    const res = await mf.dispatchFetch(`http://bench${path}`, {
      ...init,
      headers: { Authorization: "Bearer bench", ...(init.headers as Record<string, string> | undefined) },
    } as never);
    return (await res.json()) as Record<string, unknown>;
  };
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
