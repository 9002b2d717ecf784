/** The pause switch's keys in meta: read (lifting an ended window: worker/views/pause.ts) and written. */
import { pauseOf, type PauseState } from "../../views/pause.ts";
import { getMeta, setMeta } from "../schema.ts";

/** The current pause, lifting it first if its window has ended. Returns whether it was lifted. */
export function readPause(sql: SqlStorage, now: number): { state: PauseState; lifted: boolean } {
  const r = pauseOf(getMeta(sql, "paused"), getMeta(sql, "pause_info"), now);
  if (r.lifted) {
    setMeta(sql, "paused", "0");
    setMeta(sql, "pause_info", "");
  }
  return r;
}

/** Records the pause details; the caller sets the `paused` flag (which logs the event). */
export function writePauseInfo(
  sql: SqlStorage,
  p: { by: string; reason: string | null; until: number | null; since: number } | null,
): void {
  setMeta(sql, "pause_info", p === null ? "" : JSON.stringify(p));
}
