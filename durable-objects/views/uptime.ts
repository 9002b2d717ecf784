/**
 * Uptime: the share of checks that detected the fill, per monitor and per stage, over 24 h, 7 d
 * and 30 d. Every concluded check adds one to an hourly counter (verdict, first failing stage): in
 * the monitor's `counters` as `uptime:<hour>:<verdict>:<stage>`, buffered with its other counters
 * and written with them in one statement per flush (housekeeping drops hours past 31 days); or, by
 * `countVerdict` (earlier versions, callers without a buffer), in `uptime_hours`, a ring of 31 days
 * of hours (slot = hour mod 744). Both are read and summed, so 30 days survive the checks table's
 * row cap. Windows count whole clock hours: "24 h" is the current hour and the 23 before it
 * (`since` says where it starts).
 *
 * Up = pass or degraded (the fill was detected), unless `degraded_counts` makes degraded a failure
 * as it does for alerts; fail is down; skipped is neither and shown apart. A stage is up in a check
 * that got past it, down in a check that failed at it, and not counted in a check that never
 * reached it (or was skipped).
 */
import { STAGES, type Stage } from "../../worker/monitor/diagnosis.ts";

export const HOUR_MS = 3_600_000;
/** Slots in the ring: 31 days of hours, one more day than the longest window. */
export const RING_HOURS = 744;

export const UPTIME_WINDOWS = { "24h": 24, "7d": 168, "30d": 720 } as const;
export type UptimeWindowName = keyof typeof UPTIME_WINDOWS;

export interface StageUptime {
  up: number;
  down: number;
  /** up / (up + down); null when no check reached the stage in the window. */
  ratio: number | null;
}

export interface UptimeWindow {
  /** Start of the oldest hour counted (epoch ms). */
  since: number;
  pass: number;
  degraded: number;
  fail: number;
  /** Not counted as up or down. */
  skipped: number;
  up: number;
  down: number;
  /** up / (up + down); null when no check counted. */
  ratio: number | null;
  stages: Record<Stage, StageUptime>;
}

export type Uptime = Record<UptimeWindowName, UptimeWindow>;

/** Counter names of uptime's hourly counts start with this (`readCounters` leaves them out). */
export const UPTIME_COUNTER_PREFIX = "uptime:";
/** Hours are zero-padded so the names sort by hour. */
const hourKey = (hour: number) => `${UPTIME_COUNTER_PREFIX}${String(Math.max(0, hour)).padStart(8, "0")}:`;

/** The counter one concluded check (at its verdict time) adds one to, through the owner's buffered counters. */
export function uptimeCounter(at: number, verdict: string, stage: string | null): string {
  return `${hourKey(Math.floor(at / HOUR_MS))}${verdict}:${stage ?? ""}`;
}

/** Drops the hourly counters older than the ring (31 days): one statement, from housekeeping. */
export function pruneUptime(sql: SqlStorage, now: number): void {
  sql.exec(
    `DELETE FROM counters WHERE name >= ? AND name < ?`,
    UPTIME_COUNTER_PREFIX,
    hourKey(Math.floor(now / HOUR_MS) - RING_HOURS),
  );
}

function parseCounter(name: string, n: number): VerdictCount | null {
  const m = /^uptime:(\d+):([^:]*):(.*)$/.exec(name);
  return m ? { hour: Number(m[1]), verdict: m[2]!, stage: m[3]!, n } : null;
}

/** One concluded check (at its verdict time), written at once into the ring: one write statement. */
export function countVerdict(sql: SqlStorage, at: number, verdict: string, stage: string | null): void {
  const hour = Math.floor(at / HOUR_MS);
  sql.exec(
    `INSERT INTO uptime_hours (slot, hour, verdict, stage, n) VALUES (?, ?, ?, ?, 1)
     ON CONFLICT (slot, verdict, stage) DO UPDATE SET
       n = CASE WHEN hour = excluded.hour THEN n + 1 WHEN excluded.hour > hour THEN 1 ELSE n END,
       hour = MAX(hour, excluded.hour)`,
    hour % RING_HOURS,
    hour,
    verdict,
    stage ?? "",
  );
}

export interface VerdictCount {
  hour: number;
  verdict: string;
  stage: string;
  n: number;
}

/** The hourly counts from `fromHour` on: the ring's, the counters', and `pending` increments not written yet. */
export function readVerdictCounts(
  sql: SqlStorage,
  fromHour: number,
  pending: ReadonlyMap<string, number> = new Map(),
): VerdictCount[] {
  const out = sql
    .exec<{ hour: number; verdict: string; stage: string; n: number }>(
      `SELECT hour, verdict, stage, n FROM uptime_hours WHERE hour >= ?`,
      fromHour,
    )
    .toArray()
    .map((r) => ({ hour: Number(r.hour), verdict: r.verdict, stage: r.stage, n: Number(r.n) }));
  const rows = sql.exec<{ name: string; value: number }>(
    `SELECT name, value FROM counters WHERE name >= ? AND name < ?`,
    hourKey(fromHour),
    `${UPTIME_COUNTER_PREFIX}~`,
  );
  for (const r of rows) {
    const c = parseCounter(r.name, Number(r.value));
    if (c) out.push(c);
  }
  for (const [name, n] of pending) {
    const c = name.startsWith(UPTIME_COUNTER_PREFIX) ? parseCounter(name, n) : null;
    if (c && c.hour >= fromHour) out.push(c);
  }
  return out;
}

const ratio = (up: number, down: number) => (up + down === 0 ? null : up / (up + down));

/** The figures of every window (pure: tests feed it counts). */
export function summarizeUptime(counts: readonly VerdictCount[], now: number, degradedCounts: boolean): Uptime {
  const nowHour = Math.floor(now / HOUR_MS);
  const out = {} as Uptime;
  for (const [name, hours] of Object.entries(UPTIME_WINDOWS) as [UptimeWindowName, number][]) {
    const from = nowHour - hours + 1;
    const w: UptimeWindow = {
      since: from * HOUR_MS,
      pass: 0,
      degraded: 0,
      fail: 0,
      skipped: 0,
      up: 0,
      down: 0,
      ratio: null,
      stages: Object.fromEntries(STAGES.map((s) => [s, { up: 0, down: 0, ratio: null }])) as Record<Stage, StageUptime>,
    };
    for (const c of counts) {
      if (c.hour < from || c.hour > nowHour) continue;
      if (c.verdict === "skipped") {
        w.skipped += c.n;
        continue;
      }
      if (c.verdict !== "pass" && c.verdict !== "degraded" && c.verdict !== "fail") continue;
      w[c.verdict] += c.n;
      const down = c.verdict === "fail" || (c.verdict === "degraded" && degradedCounts);
      if (down) w.down += c.n;
      else w.up += c.n;
      const failedAt = c.verdict === "fail" ? STAGES.indexOf(c.stage as Stage) : STAGES.length;
      // A failure at a stage we do not know says nothing about any stage.
      if (failedAt < 0) continue;
      STAGES.forEach((s, i) => {
        if (i < failedAt) w.stages[s].up += c.n;
        else if (i === failedAt) w.stages[s].down += c.n;
      });
    }
    w.ratio = ratio(w.up, w.down);
    for (const s of STAGES) w.stages[s].ratio = ratio(w.stages[s].up, w.stages[s].down);
    out[name] = w;
  }
  return out;
}

/** `pending`: the owner's counter increments not written yet (uptime's among them). */
export function readUptime(
  sql: SqlStorage,
  now: number,
  degradedCounts: boolean,
  pending?: ReadonlyMap<string, number>,
): Uptime {
  const nowHour = Math.floor(now / HOUR_MS);
  return summarizeUptime(readVerdictCounts(sql, nowHour - UPTIME_WINDOWS["30d"] + 1, pending), now, degradedCounts);
}
