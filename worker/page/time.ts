/**
 * Times for people on the status page: "3 min ago" (the exact ISO time goes in the hover title and
 * the `datetime` attribute), and the same rule as a browser function (AGO_JS) so the page's
 * script can keep the relative times current between refreshes.
 */

/** "2026-01-02T03:04:05Z" (no milliseconds when they are zero), or "–". */
export function iso(ms: number | null | undefined): string {
  return typeof ms === "number" && Number.isFinite(ms) ? new Date(ms).toISOString().replace(".000Z", "Z") : "–";
}

/**
 * "just now", "42 s ago", "3 min ago", "5 h ago", "12 d ago" (or "in 3 min" for a future time).
 *
 * @example
 * ago(now - 180_000, now) // "3 min ago"
 */
export function ago(ms: number, now: number): string {
  const d = now - ms;
  const a = Math.abs(d);
  let text: string;
  if (a < 5_000) return "just now";
  if (a < 60_000) text = `${Math.floor(a / 1000)} s`;
  else if (a < 3_600_000) text = `${Math.floor(a / 60_000)} min`;
  else if (a < 48 * 3_600_000) text = `${Math.floor(a / 3_600_000)} h`;
  else text = `${Math.floor(a / 86_400_000)} d`;
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

/** `ago` for the page's script (same thresholds and words). */
export const AGO_JS = `function ago(ms, now) {
  var d = now - ms, a = Math.abs(d), t;
  if (a < 5000) return "just now";
  if (a < 60000) t = Math.floor(a / 1000) + " s";
  else if (a < 3600000) t = Math.floor(a / 60000) + " min";
  else if (a < 172800000) t = Math.floor(a / 3600000) + " h";
  else t = Math.floor(a / 86400000) + " d";
  return d >= 0 ? t + " ago" : "in " + t;
}`;
