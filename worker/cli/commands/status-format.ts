/**
 * The `fillwatch status` table: one summary row per monitor (verdict, first failing stage,
 * diagnosis, when, session, incidents), then per monitor its stage latencies, session, open
 * incidents and config problems. Also an exact-integer JSON writer for the filtered --json output.
 */
import type { ExactJson } from "../../lighter/json.ts";

interface Problem {
  setting?: string;
  message?: string;
  fix?: string;
  severity?: string;
}

/** The parts of `GET /status` (worker/api/app.ts, StatusView in worker/views/status.ts) shown here. */
export interface MonitorStatus {
  id: string;
  network?: string;
  chain_id?: number;
  markets?: number[];
  mode?: string;
  paused?: boolean;
  session?: { state?: string; connected_at?: number | null; last_frame_at?: number | null; reconnects?: number };
  last_check?: {
    id?: string;
    state?: string;
    verdict?: string | null;
    first_failing_stage?: string | null;
    diagnosis?: string | null;
    started_at?: number;
    finished_at?: number | null;
    stages?: Record<string, { at?: number; ms?: number }>;
    fill_latency_ms?: number | null;
  } | null;
  fill_latency_ms?: { p50?: number | null; p90?: number | null; p99?: number | null; samples?: number };
  incidents?: {
    kind?: string;
    opened_at?: number;
    stage?: string | null;
    diagnosis?: string | null;
    failures?: number;
  }[];
  config_problems?: Problem[];
  error?: string;
}

export interface StatusBody {
  monitors: MonitorStatus[];
  config?: { ok?: boolean; problems?: Problem[] };
}

/** Server text made safe for a terminal: control characters (escape sequences) become spaces. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

/** Text from the server shown in a terminal: printable, bounded length, "-" when empty. */
function clean(v: unknown, max = 160): string {
  if (v === null || v === undefined || v === "") return "-";
  const s = printable(String(v));
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

function when(at: number | null | undefined, now: number): string {
  if (typeof at !== "number" || !Number.isFinite(at)) return "-";
  return `${new Date(at).toISOString()} (${formatAge(now - at)} ago)`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}

function problemLine(p: Problem): string {
  return `${clean(p.severity)}: ${clean(p.setting)}: ${clean(p.message)}${p.fix ? ` — fix: ${clean(p.fix)}` : ""}`;
}

function details(m: MonitorStatus, now: number): string[] {
  const c = m.last_check;
  const where = [m.network, m.chain_id !== undefined ? `chain ${m.chain_id}` : undefined, m.mode]
    .filter((x) => x !== undefined)
    .map((x) => clean(x));
  if (Array.isArray(m.markets)) where.push(`markets ${m.markets.map((x) => clean(x)).join(",")}`);
  const lines = [`${clean(m.id)}${where.length ? ` (${where.join(", ")})` : ""}${m.paused ? " — PAUSED" : ""}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(10)} ${v}`);
  if (m.error) row("error", clean(m.error, 300));
  if (c) {
    row("check", `${clean(c.id)} ${clean(c.state)}, started ${when(c.started_at, now)}`);
    const stages = Object.entries(c.stages ?? {}).map(([s, v]) => `${clean(s)} ${clean(v?.ms)} ms`);
    row("stages", stages.length ? stages.join(", ") : "-");
  } else row("check", "no check yet");
  const lat = m.fill_latency_ms;
  if (lat && lat.samples)
    row(
      "fill p50",
      `${clean(lat.p50)} ms, p90 ${clean(lat.p90)} ms, p99 ${clean(lat.p99)} ms (${lat.samples} samples)`,
    );
  const s = m.session ?? {};
  row(
    "session",
    `${clean(s.state)}${s.connected_at ? `, connected ${when(s.connected_at, now)}` : ""}` +
      `${s.last_frame_at ? `, last frame ${formatAge(now - s.last_frame_at)} ago` : ""}` +
      `${s.reconnects !== undefined ? `, ${s.reconnects} reconnects` : ""}`,
  );
  const inc = Array.isArray(m.incidents) ? m.incidents : [];
  if (inc.length === 0) row("incidents", "none open");
  for (const i of inc)
    row(
      "incident",
      `${clean(i.kind)}: ${clean(i.stage)} ${clean(i.diagnosis)}, ${clean(i.failures)} failures, open since ${when(i.opened_at, now)}`,
    );
  const probs = Array.isArray(m.config_problems) ? m.config_problems : [];
  if (probs.length === 0) row("config", "ok");
  for (const p of probs) row("config", problemLine(p));
  return lines;
}

/**
 * @example
 * console.log(formatStatus(await res.json(), Date.now()));
 */
export function formatStatus(b: StatusBody, now: number): string {
  const head = ["MONITOR", "VERDICT", "FAILING STAGE", "DIAGNOSIS", "WHEN", "SESSION", "INCIDENTS"];
  const rows = b.monitors.map((m) => {
    const c = m.last_check;
    const verdict = c ? (c.state === "running" ? "running" : clean(c.verdict)) : "no check";
    return [
      clean(m.id, 40),
      m.error ? "unreachable" : verdict,
      clean(c?.first_failing_stage),
      clean(c?.diagnosis),
      c ? when(c.finished_at ?? c.started_at, now) : "-",
      clean(m.session?.state),
      String(Array.isArray(m.incidents) ? m.incidents.length : 0),
    ];
  });
  const out = b.monitors.length ? table([head, ...rows]) : ["no monitor is configured"];
  for (const m of b.monitors) out.push("", ...details(m, now));
  if (b.config) {
    const probs = b.config.problems ?? [];
    out.push(
      "",
      `config: ${b.config.ok === false ? "errors" : "ok"}${probs.length ? ` (${probs.length} problems)` : ""}`,
    );
    for (const p of probs) out.push(`  ${problemLine(p)}`);
  }
  return out.join("\n");
}

/** JSON text with bigints written as exact integer literals, indented by two spaces. */
export function exactJsonText(v: ExactJson | object, indent = ""): string {
  if (typeof v === "bigint") return v.toString();
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => inner + exactJsonText(x as ExactJson, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, ExactJson>);
  if (entries.length === 0) return "{}";
  const body = entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${exactJsonText(x, inner)}`);
  return `{\n${body.join(",\n")}\n${indent}}`;
}
