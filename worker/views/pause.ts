/**
 * The pause switch (meta `paused`, and `pause_info`: who paused, why and until when). A pause whose
 * `until` has passed lifts itself the next time anything reads it (status, a check start), so a
 * maintenance window ends without a call to /resume: `pauseOf` says so, the object clears the keys.
 */

export interface PauseState {
  paused: boolean;
  by: string | null;
  reason: string | null;
  /** Epoch ms; null = until resumed. */
  until: number | null;
  since: number | null;
}

export const NOT_PAUSED: PauseState = { paused: false, by: null, reason: null, until: null, since: null };

/** The pause as stored (`paused` flag, `pause_info` JSON) at `now`; `lifted`: its window has ended. */
export function pauseOf(flag: string | null, info: string | null, now: number): { state: PauseState; lifted: boolean } {
  if (flag !== "1") return { state: NOT_PAUSED, lifted: false };
  let p: Partial<PauseState>;
  try {
    p = info ? (JSON.parse(info) as Partial<PauseState>) : {};
  } catch {
    p = {};
  }
  const until = typeof p.until === "number" ? p.until : null;
  if (until !== null && until <= now) return { state: NOT_PAUSED, lifted: true };
  return {
    state: {
      paused: true,
      by: typeof p.by === "string" ? p.by : null,
      reason: typeof p.reason === "string" ? p.reason : null,
      until,
      since: typeof p.since === "number" ? p.since : null,
    },
    lifted: false,
  };
}
