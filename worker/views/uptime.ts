/**
 * Uptime: the share of checks that detected the fill, per monitor and per stage, over 24 h, 7 d
 * and 30 d, from hourly verdict counts (verdict, first failing stage). The object keeps the counts
 * as counters named by `uptimeCounter`, kept 31 days (worker/store/views/uptime.ts), so 30 days
 * survive the checks table's row cap. Windows count whole clock
 * hours: "24 h" is the current hour and the 23 before it (`since` says where it starts).
 *
 * Up = pass or degraded (the fill was detected), unless `degraded_counts` makes degraded a failure
 * as it does for alerts; fail is down; skipped is neither and shown apart. A stage is up in a check
 * that got past it, down in a check that failed at it, and not counted in a check that never
 * reached it (or was skipped).
 */
import { STAGES, type Stage } from "../monitor/diagnosis.ts";

export const HOUR_MS = 3_600_000;
/** Hours the counts are kept: 31 days, one more day than the longest window. */
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

export interface VerdictCount {
  hour: number;
  verdict: string;
  stage: string;
  n: number;
}

/** Counter names of uptime's hourly counts start with this (`readCounters` leaves them out). */
export const UPTIME_COUNTER_PREFIX = "uptime:";

/** The counter-name prefix of one hour; hours are zero-padded so the names sort by hour. */
export function uptimeHourKey(hour: number): string {
  return `${UPTIME_COUNTER_PREFIX}${String(Math.max(0, hour)).padStart(8, "0")}:`;
}

/** The counter one concluded check (at its verdict time) adds one to, through the owner's buffered counters. */
export function uptimeCounter(at: number, verdict: string, stage: string | null): string {
  return `${uptimeHourKey(Math.floor(at / HOUR_MS))}${verdict}:${stage ?? ""}`;
}

/** One hourly count from a counter's name and value; null for a name that is not uptime's. */
export function parseUptimeCounter(name: string, n: number): VerdictCount | null {
  const m = /^uptime:(\d+):([^:]*):(.*)$/.exec(name);
  return m ? { hour: Number(m[1]), verdict: m[2]!, stage: m[3]!, n } : null;
}

/** The first hour any window reads, at `now`. */
export function oldestUptimeHour(now: number): number {
  return Math.floor(now / HOUR_MS) - UPTIME_WINDOWS["30d"] + 1;
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
