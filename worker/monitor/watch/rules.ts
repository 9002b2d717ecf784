/**
 * The verdict rules of watch mode, as pure functions: whether a fill REST shows was reported by a
 * channel in time (or late, or never, or fell in a coverage gap), how one reconciliation cycle's
 * judgements become one alert result (missed fills group into one incident), and whether a
 * position change is explained by a fill.
 */

/** The channels that can report a fill of the account. */
export const FILL_CHANNELS = ["account_orders", "account_all_orders", "account_all_trades"] as const;
export type FillChannel = (typeof FILL_CHANNELS)[number];

/** When a channel was subscribed: from its ack until the session closed (null: still open). */
export interface Coverage {
  from: number;
  to: number | null;
}

/**
 * Whether a channel owed a report for a fill at `fillAt`: it was subscribed at the fill and stayed
 * subscribed for the whole window after it (a session that closes inside the window leaves the
 * fill to reconciliation over the gap, never to an alert).
 */
export function covered(intervals: readonly Coverage[], fillAt: number, windowMs: number): boolean {
  return intervals.some((c) => c.from <= fillAt && (c.to === null || c.to >= fillAt + windowMs));
}

export type FillJudgement =
  | { kind: "pending" }
  /** No channel was subscribed across the fill's window and the reconnect snapshot carried it (or cannot tell): no alert. */
  | { kind: "gap" }
  /** Some channel reported within the window; `missingOn`: covering channels that did not. */
  | { kind: "reported"; firstAt: number; delayMs: number; missingOn: FillChannel[] }
  | { kind: "late"; firstAt: number; delayMs: number }
  | { kind: "missed" };

export interface FillInput {
  /** When the fill happened (the exchange's trade time; REST time when the trade has none). */
  fillAt: number;
  /** Per channel: when it first reported this fill, or null. */
  reports: Partial<Record<FillChannel, number | null>>;
  /** Per channel: its subscription intervals. */
  coverage: Partial<Record<FillChannel, readonly Coverage[]>>;
  windowMs: number;
  now: number;
  /**
   * For a fill no channel covered (the session was down, or a close cut its window): the first
   * `account_all_trades` snapshot taken after it. `reachesBack`: the snapshot holds an older trade,
   * so it would have carried this one (LIVE.md L.13.9); `carried`: it did. Null: none yet.
   */
  snapshot?: { reachesBack: boolean; carried: boolean } | null;
  /** An uncovered fill with no snapshot to judge it by waits until then, and is then reconciled over the gap. */
  giveUpAt?: number;
}

/**
 * A fill no channel covered is judged against what the exchange delivered once a session was back:
 * a live report after it (in the window: reported; after: late), else the reconnect snapshot: the
 * trade in it is reconciled over the gap; a snapshot that reaches back past the trade without it
 * means the exchange never reported the fill (missed). With no snapshot to go by, it is a gap.
 */
function judgeUncovered(f: FillInput, deadline: number): FillJudgement {
  let first: number | null = null;
  for (const ch of FILL_CHANNELS) {
    const r = f.reports[ch];
    if (r !== null && r !== undefined && (first === null || r < first)) first = r;
  }
  if (first !== null && first <= deadline)
    return { kind: "reported", firstAt: first, delayMs: Math.max(0, first - f.fillAt), missingOn: [] };
  if (f.now < deadline) return { kind: "pending" };
  if (first !== null) return { kind: "late", firstAt: first, delayMs: first - f.fillAt };
  const snap = f.snapshot ?? null;
  if (snap === null) return f.now < (f.giveUpAt ?? deadline) ? { kind: "pending" } : { kind: "gap" };
  if (snap.carried || !snap.reachesBack) return { kind: "gap" };
  return { kind: "missed" };
}

/**
 * A fill is alerted (missed) iff no channel that covered it reported it by `fillAt + windowMs`
 * and no report came at all by `now` (a report after the window is late, not missed); a fill no
 * channel covered is judged by judgeUncovered.
 *
 * @example
 * judgeFill({ fillAt: 0, reports: { account_all_orders: 50 }, coverage: { account_all_orders: [{ from: -1, to: null }] }, windowMs: 100, now: 200 })
 * // { kind: "reported", firstAt: 50, delayMs: 50, missingOn: [] }
 */
export function judgeFill(f: FillInput): FillJudgement {
  const deadline = f.fillAt + f.windowMs;
  const owing = FILL_CHANNELS.filter((ch) => covered(f.coverage[ch] ?? [], f.fillAt, f.windowMs));
  if (owing.length === 0) return judgeUncovered(f, deadline);
  let first: number | null = null;
  for (const ch of owing) {
    const r = f.reports[ch];
    if (r !== null && r !== undefined && (first === null || r < first)) first = r;
  }
  if (first !== null && first <= deadline) {
    // Channels still inside their window are not missing yet: wait for them.
    const missingOn = owing.filter((ch) => {
      const r = f.reports[ch];
      return r === null || r === undefined || r > deadline;
    });
    if (missingOn.length > 0 && f.now < deadline) return { kind: "pending" };
    return { kind: "reported", firstAt: first, delayMs: Math.max(0, first - f.fillAt), missingOn };
  }
  if (f.now < deadline) return { kind: "pending" };
  if (first !== null) return { kind: "late", firstAt: first, delayMs: first - f.fillAt };
  return { kind: "missed" };
}

/**
 * One reconciliation cycle → one alert result: "fail" when any fill was missed (all of a cycle's
 * misses group into the one open incident), "pass" when fills were reported in time and none was
 * missed, null when the cycle proved nothing (no decided fills, or only gaps and late reports).
 */
export function cycleResult(judgements: readonly FillJudgement[]): "fail" | "pass" | null {
  if (judgements.some((j) => j.kind === "missed")) return "fail";
  if (judgements.some((j) => j.kind === "reported")) return "pass";
  return null;
}

/**
 * The per-channel side of one cycle: "fail" when a fill reported in time on some channel was
 * missed by another channel that covered it (the subscription of that channel, not the exchange),
 * "pass" when every in-time fill came on every covering channel, null when nothing was decided.
 * Returns the silent channels with the fills each missed.
 *
 * @example
 * channelResult([{ kind: "reported", firstAt: 5, delayMs: 5, missingOn: ["account_orders"] }]).verdict // "fail"
 */
export function channelResult(judgements: readonly FillJudgement[]): {
  verdict: "fail" | "pass" | null;
  missingOn: Partial<Record<FillChannel, number>>;
} {
  const reported = judgements.filter((j) => j.kind === "reported");
  const missingOn: Partial<Record<FillChannel, number>> = {};
  for (const j of reported) for (const ch of j.missingOn) missingOn[ch] = (missingOn[ch] ?? 0) + 1;
  if (reported.length === 0) return { verdict: null, missingOn };
  return { verdict: Object.keys(missingOn).length > 0 ? "fail" : "pass", missingOn };
}

export interface PositionMove {
  market: number;
  /** Signed position before and after, as exact decimal strings. */
  from: string;
  to: string;
  /** When the move was seen, and when the previous position was seen. */
  at: number;
  prevAt: number;
}

/**
 * A position move is explained when some fill on its market (reported by any channel or shown by
 * REST) happened between the previous position report and the move's window end.
 */
export function moveExplained(
  m: PositionMove,
  fills: readonly { market: number; at: number }[],
  windowMs: number,
  skewMs: number,
): boolean {
  return fills.some((f) => f.market === m.market && f.at >= m.prevAt - skewMs && f.at <= m.at + windowMs);
}
