/**
 * Cron schedules, read by a maintained cron library (croner) the way Cloudflare reads them: five
 * fields, UTC, day-of-month OR day-of-week. It validates a monitor's `schedule` and gives the real
 * previous fire times the Worker's watchdog measures staleness against.
 */
import { Cron } from "croner";
import { RESERVED_HOUSEKEEPING_CRON, normalizeCron } from "./types.ts";

/** A parsed five-field cron that never runs anything (no callback, paused), or the library's error. */
function parse(cron: string): { ok: true; cron: Cron } | { ok: false; error: string } {
  try {
    return { ok: true, cron: new Cron(cron, { mode: "5-part", timezone: "UTC", domAndDow: false, paused: true }) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Why `cron` is not a usable five-field cron expression, or null. */
export function cronProblem(cron: string): string | null {
  if (cron.trim().split(/\s+/).length !== 5) return "is not a 5-field cron expression";
  const p = parse(cron.trim());
  return p.ok ? null : `is not a valid cron expression (${p.error})`;
}

/**
 * The last `n` fire times of `cron` at or before `now` (ms, most recent first); [] when the
 * expression does not parse.
 *
 * @example
 * previousFires("0 *\/6 * * *", Date.parse("2026-12-06T08:10:00Z"), 2)
 * // [Date.parse("2026-12-06T06:00:00Z"), Date.parse("2026-12-06T00:00:00Z")]
 */
export function previousFires(cron: string, now: number, n: number): number[] {
  const p = parse(cron.trim());
  if (!p.ok) return [];
  // previousRuns is strictly before its reference: a fire exactly at `now` counts too.
  return p.cron.previousRuns(n, new Date(now + 1)).map((d) => d.getTime());
}

/** The first fire time of `cron` after `after` (ms), or null when it does not parse or never fires. */
export function nextFire(cron: string, after: number): number | null {
  const p = parse(cron.trim());
  if (!p.ok) return null;
  return p.cron.nextRun(new Date(after))?.getTime() ?? null;
}

/** A schedule must parse as a 5-field cron, not be the housekeeping cron, and (when known) be one of the triggers. */
export function checkSchedule(
  schedule: string | null,
  crons: readonly string[] | undefined,
  err: (setting: string, message: string, fix: string) => void,
): string | null {
  if (schedule === null) return null;
  // The scheduler matches a monitor by the trimmed cron string, exactly as wrangler.toml spells it.
  const cron = schedule.trim();
  const triggers = crons?.map((c) => c.trim());
  const fix = triggers?.length
    ? `use one of the check crons in wrangler.toml [triggers]: ${triggers.filter((c) => normalizeCron(c) !== RESERVED_HOUSEKEEPING_CRON).join(", ")}`
    : 'use one of the crons in wrangler.toml [triggers], e.g. "*/5 * * * *"';
  const problem = cronProblem(cron);
  if (problem) {
    err("schedule", `schedule ${JSON.stringify(schedule).slice(0, 60)} ${problem}`, fix);
  } else if (normalizeCron(cron) === RESERVED_HOUSEKEEPING_CRON) {
    err(
      "schedule",
      `schedule "${cron}" is the reserved housekeeping cron: no check runs on it, so this monitor would never run`,
      fix,
    );
  } else if (triggers && !triggers.includes(cron)) {
    err(
      "schedule",
      `schedule "${cron}" is not one of the cron triggers (${triggers.join(", ")}): this monitor would never run`,
      "add it to [triggers] crons or use one that is there",
    );
  }
  return cron;
}
