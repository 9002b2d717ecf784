/**
 * The rules of bot reconciliation, as pure functions: when the bot's reports cover an exchange
 * fill (its cumulative `filled_base` for the order reached the fill's level), whether a fill was
 * reported in time, late, or missed (never while the bot's ingest is silent: silence holds misses
 * back), whether a report names a fill the exchange never made (phantom), and how one judging
 * pass becomes one alert result per stream.
 */

/** The bot reached cumulative amount `cum` (at BOT_SCALE) for an order at `at` (ms). */
export interface BotLevel {
  cum: bigint;
  at: number;
}

const MAX_LEVELS = 32;

/**
 * Adds a report to an order's frontier: the earliest time each amount was reached. A report that
 * adds nothing (a duplicate, or a lower amount seen later) leaves the frontier as it was, so
 * duplicated and reordered batches never change a verdict.
 *
 * @example
 * addLevel([{ cum: 5n, at: 10 }], { cum: 3n, at: 20 }) // [{ cum: 5n, at: 10 }]
 */
export function addLevel(levels: readonly BotLevel[], l: BotLevel): BotLevel[] {
  if (levels.some((x) => x.cum >= l.cum && x.at <= l.at)) return [...levels];
  const kept = levels.filter((x) => !(x.cum <= l.cum && x.at >= l.at));
  kept.push(l);
  kept.sort((a, b) => (a.cum < b.cum ? -1 : a.cum > b.cum ? 1 : 0));
  // Bounded: drop the lowest amounts first (the newest fills matter).
  return kept.slice(-MAX_LEVELS);
}

/** When the bot first reported at least `cum`, or null. */
export function firstReached(levels: readonly BotLevel[], cum: bigint): number | null {
  let first: number | null = null;
  for (const l of levels) if (l.cum >= cum && (first === null || l.at < first)) first = l.at;
  return first;
}

/** The highest amount the bot reported. */
export function topLevel(levels: readonly BotLevel[]): BotLevel | null {
  return levels.length === 0 ? null : levels[levels.length - 1]!;
}

export type BotJudgement =
  | { kind: "pending" }
  /** The bot's ingest is silent (or just came back): a miss is held back until it has had its window. */
  | { kind: "held" }
  | { kind: "reported"; firstAt: number; lagMs: number }
  | { kind: "late"; firstAt: number; delayMs: number }
  | { kind: "missed" };

export interface BotFillInput {
  /** The exchange's time of the fill (ms). */
  fillAt: number;
  /** When the bot's reports first reached the fill's level (null: not yet). */
  reachedAt: number | null;
  windowMs: number;
  now: number;
  /** The bot's ingest is silent now. */
  silent: boolean;
  /** The bot's last request (a batch or a heartbeat), or null. */
  lastContactAt: number | null;
  /** No miss is decided before this (the end of the last silence + the window), or null. */
  holdUntil: number | null;
}

/**
 * Decided once the deadline `fillAt + windowMs` has passed. A fill is `missed` iff the bot's
 * reports did not reach its level by the deadline and the bot sent a request after the deadline
 * without it, while its ingest is neither silent nor just back (a dead bot is bot_ingest_silent,
 * not a string of misses); a report that reached it later is `late` with the delay.
 *
 * @example
 * judgeBotFill({ fillAt: 0, reachedAt: 40, windowMs: 100, now: 150, silent: false, lastContactAt: 140, holdUntil: null })
 * // { kind: "reported", firstAt: 40, lagMs: 40 }
 */
export function judgeBotFill(f: BotFillInput): BotJudgement {
  const deadline = f.fillAt + f.windowMs;
  // Decided at the deadline: REST may still show earlier trades of the order, which raise the level.
  if (f.now < deadline) return { kind: "pending" };
  if (f.reachedAt !== null && f.reachedAt <= deadline)
    return { kind: "reported", firstAt: f.reachedAt, lagMs: f.reachedAt - f.fillAt };
  if (f.reachedAt !== null) return { kind: "late", firstAt: f.reachedAt, delayMs: f.reachedAt - f.fillAt };
  // Only a request after the deadline shows the bot was alive and reporting without this fill.
  if (f.silent || f.lastContactAt === null || f.lastContactAt < deadline) return { kind: "held" };
  if (f.holdUntil !== null && f.now < f.holdUntil) return { kind: "held" };
  return { kind: "missed" };
}

export interface PhantomInput {
  /** The highest amount the bot reported for the order, and when. */
  reported: BotLevel;
  /** What the exchange shows for the order (REST trades and WebSocket frames), at BOT_SCALE. */
  exchangeCum: bigint;
  windowMs: number;
  /** The start of the last REST reconciliation that read up to the newest trade, or null. */
  caughtUpAt: number | null;
  now: number;
}

/**
 * A report is a phantom when the exchange still shows less than the bot reported once REST was
 * read up to the newest trade twice the window after the report (REST lags the WebSocket; the
 * margin allows for it). "pending" until then.
 *
 * @example
 * phantomCheck({ reported: { cum: 5n, at: 0 }, exchangeCum: 0n, windowMs: 100, caughtUpAt: 250, now: 260 }) // "phantom"
 */
export function phantomCheck(p: PhantomInput): "phantom" | "confirmed" | "pending" {
  if (p.exchangeCum >= p.reported.cum) return "confirmed";
  // Twice the window: REST may show a trade some time after the WebSocket and the bot saw it.
  const due = p.reported.at + 2 * p.windowMs;
  if (p.now < due || p.caughtUpAt === null || p.caughtUpAt < due) return "pending";
  return "phantom";
}

/**
 * Whether the bot's ingest is silent at `now`: no request (a batch or a heartbeat) for `silenceMs`
 * since its last one, or since reconciliation started when it never sent one.
 */
export function ingestSilent(lastContactAt: number | null, startedAt: number, silenceMs: number, now: number): boolean {
  return now - (lastContactAt ?? startedAt) > silenceMs;
}

/**
 * One judging pass → the "bot" stream's result: fail when a fill was missed (the pass's misses
 * group into the one open incident), pass when fills were reported in time and none was missed,
 * null when the pass decided nothing (only pending, held or late fills).
 */
export function botPassResult(judgements: readonly BotJudgement[]): "fail" | "pass" | null {
  if (judgements.some((j) => j.kind === "missed")) return "fail";
  if (judgements.some((j) => j.kind === "reported")) return "pass";
  return null;
}
