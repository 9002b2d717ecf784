/**
 * How a watch monitor reads the account's trades as the exchange serves them (LIVE.md L.13.1):
 * `GET /api/v1/trades` is newest first (`sort_dir=desc` only), at most 100 rows a page, and pages
 * back through `next_cursor`. A reconciliation reads the newest page and walks back until it
 * reaches the last trade already seen, de-duplicating by `trade_id`; when the walk needs more pages
 * than the REST budget gives it, the unread stretch is reported as a gap with its time range
 * instead of being skipped silently. Pure: the caller does the REST calls and keeps the state.
 */

/** A trade by id and exchange time (ms; null when the row had none). */
export interface TradeMark {
  id: bigint;
  at: number | null;
}

export interface WalkState {
  /** Every trade up to this id was read (or predates the watch); null before the first read. */
  seen: TradeMark | null;
  /** A walk back through older pages, in progress. */
  walk: {
    /** The next page to ask for. */
    cursor: string;
    /** The newest trade of the walk's first page: `seen` once the walk ends. */
    newest: TradeMark;
    /** The oldest trade read so far in this walk. */
    oldest: TradeMark;
    pages: number;
  } | null;
}

/** The stretch of trades a walk could not read within its budget. */
export interface WalkGap {
  /** Trades after `after` and before `before` (exclusive, by trade id) were never read. */
  afterId: string;
  beforeId: string;
  /** The unchecked time range: from the last trade seen to the oldest trade read (ms, null unknown). */
  fromAt: number | null;
  toAt: number | null;
  pages: number;
}

export interface PageOutcome<T> {
  state: WalkState;
  /** The page's trades not seen before, newest first, each id once. */
  fresh: T[];
  /** Whether the walk reached the last trade seen (the next reconciliation starts a new one). */
  done: boolean;
  gap: WalkGap | null;
}

export const PAGE_LIMIT = 100;

export function newWalk(seen: TradeMark | null = null): WalkState {
  return { seen, walk: null };
}

/** The cursor of the next page to read: null for the newest page. */
export function nextCursor(s: WalkState): string | null {
  return s.walk?.cursor ?? null;
}

/**
 * Folds one page into the walk. `rows` as the exchange sent them (newest first; sorted again here,
 * never trusted), `cursor` the page's `next_cursor` ("" or null: no older page), `maxPages` how
 * many pages one walk may take before what is left becomes a gap.
 *
 * @example
 * const s = newWalk({ id: 10n, at: 1 });
 * onPage(s, [{ id: 12n, at: 3 }, { id: 11n, at: 2 }, { id: 10n, at: 1 }], (t) => t, "c2", 5).fresh
 * // [{ id: 12n, at: 3 }, { id: 11n, at: 2 }]
 */
export function onPage<T>(
  s: WalkState,
  rows: readonly T[],
  mark: (row: T) => TradeMark,
  cursor: string | null,
  maxPages: number,
  limit = PAGE_LIMIT,
): PageOutcome<T> {
  const byId = new Map<bigint, T>();
  for (const r of rows) byId.set(mark(r).id, r);
  const sorted = [...byId.values()].sort((a, b) => (mark(a).id > mark(b).id ? -1 : mark(a).id < mark(b).id ? 1 : 0));
  const newestRow = sorted[0];
  if (s.seen === null) {
    // The first read ever: the watch starts after the newest trade.
    const seen = newestRow ? mark(newestRow) : { id: -1n, at: null };
    return { state: { seen, walk: null }, fresh: [], done: true, gap: null };
  }
  const seen = s.seen;
  const fresh = sorted.filter((r) => mark(r).id > seen.id);
  const oldestRow = sorted[sorted.length - 1];
  // The page reached back to a trade already seen, or there is no older page.
  const reached = fresh.length < sorted.length || sorted.length < limit || cursor === null || cursor === "";
  const newest = s.walk?.newest ?? (newestRow ? mark(newestRow) : seen);
  const top = newest.id > seen.id ? newest : seen;
  if (reached) return { state: { seen: top, walk: null }, fresh, done: true, gap: null };
  const pages = (s.walk?.pages ?? 0) + 1;
  const oldest = mark(oldestRow!);
  if (pages >= maxPages) {
    const gap: WalkGap = {
      afterId: seen.id.toString(),
      beforeId: oldest.id.toString(),
      fromAt: seen.at,
      toAt: oldest.at,
      pages,
    };
    return { state: { seen: top, walk: null }, fresh, done: true, gap };
  }
  return { state: { seen, walk: { cursor: cursor!, newest, oldest, pages } }, fresh, done: false, gap: null };
}

/**
 * Where a watch resumes after an eviction: the last trade seen, but no later than just before the
 * oldest fill still waiting for its verdict (so a fill read but not judged is read again, never lost).
 *
 * @example
 * resumeMark({ id: 20n, at: 9 }, [{ id: 15n, at: 5 }]) // { id: 14n, at: 5 }
 */
export function resumeMark(seen: TradeMark | null, undecided: readonly TradeMark[]): TradeMark | null {
  if (seen === null) return null;
  let out = seen;
  for (const u of undecided) if (u.id - 1n < out.id) out = { id: u.id - 1n, at: u.at };
  return out;
}

/** How many pages one walk may take: the budget's trades calls in a minute, less one for evidence. */
export function maxWalkPages(tradesPerMinute: number): number {
  return Math.max(1, Math.floor(tradesPerMinute) - 1);
}
