/**
 * The pause switch's details (meta `pause_info`, beside the runner's `paused` flag): who paused,
 * why and until when. A pause whose `until` has passed lifts itself the next time anything reads
 * it (status, a check start), so a maintenance window ends without a call to /resume.
 */
import { getMeta, setMeta } from "../runtime/schema.ts";

export interface PauseState {
  paused: boolean;
  by: string | null;
  reason: string | null;
  /** Epoch ms; null = until resumed. */
  until: number | null;
  since: number | null;
}

const NOT_PAUSED: PauseState = { paused: false, by: null, reason: null, until: null, since: null };

/** The current pause, lifting it first if its window has ended. Returns whether it was lifted. */
export function readPause(sql: SqlStorage, now: number): { state: PauseState; lifted: boolean } {
  if (getMeta(sql, "paused") !== "1") return { state: NOT_PAUSED, lifted: false };
  const raw = getMeta(sql, "pause_info");
  let info: Partial<PauseState>;
  try {
    info = raw ? (JSON.parse(raw) as Partial<PauseState>) : {};
  } catch {
    info = {};
  }
  const until = typeof info.until === "number" ? info.until : null;
  if (until !== null && until <= now) {
    setMeta(sql, "paused", "0");
    setMeta(sql, "pause_info", "");
    return { state: NOT_PAUSED, lifted: true };
  }
  return {
    state: {
      paused: true,
      by: typeof info.by === "string" ? info.by : null,
      reason: typeof info.reason === "string" ? info.reason : null,
      until,
      since: typeof info.since === "number" ? info.since : null,
    },
    lifted: false,
  };
}

/** Records the pause details; the caller sets the runner's `paused` flag (which logs the event). */
export function writePauseInfo(
  sql: SqlStorage,
  p: { by: string; reason: string | null; until: number | null; since: number } | null,
): void {
  if (p === null) setMeta(sql, "pause_info", "");
  else setMeta(sql, "pause_info", JSON.stringify(p));
}
