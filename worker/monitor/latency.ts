/**
 * Delivery-latency percentiles, pure and bounded: a log-bucketed histogram per (channel, market)
 * over two sliding windows (the last hour in 5-minute slots, the last 24 hours in 1-hour slots),
 * recorded in memory on every frame and snapshotted as a whole (never a write per sample).
 * Bucket i ≥ 1 holds [γ^(i−1), γ^i) ms with γ = 1.02, so a reported percentile is within 1 % of
 * the true sample; 0 ms has its own bucket and negative delays (clock skew) count as 0.
 */

const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);
/** Delays above this (10 minutes) share the last bucket. */
const MAX_MS = 600_000;
const MAX_BUCKET = 1 + Math.floor(Math.log(MAX_MS) / LOG_GAMMA);
/** At most this many (channel, market) series are kept; later ones are counted as dropped. */
export const MAX_SERIES = 64;
/** A snapshot is due at most this often (unless forced), and only when something was recorded. */
export const SNAPSHOT_EVERY_MS = 60_000;

export const WINDOWS = {
  "1h": { slotMs: 5 * 60_000, slots: 12 },
  "24h": { slotMs: 60 * 60_000, slots: 24 },
} as const;
export type LatencyWindow = keyof typeof WINDOWS;

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  samples: number;
}

/** The bucket of a delay in ms. */
export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  if (ms >= MAX_MS) return MAX_BUCKET;
  return 1 + Math.floor(Math.log(ms) / LOG_GAMMA);
}

/** The value a bucket stands for: the middle of its range, rounded to 0.01 ms. */
export function bucketValue(b: number): number {
  if (b <= 0) return 0;
  const lo = GAMMA ** (b - 1);
  return Math.round(((lo + lo * GAMMA) / 2) * 100) / 100;
}

/** The smallest plausible µs epoch timestamp (2001-09-09): a smaller number is in another unit. */
const MIN_EPOCH_US = 1e15;

/**
 * An order's or trade's `transaction_time` (µs since the epoch, LIVE.md L.7): the number, null when
 * the field is absent (no sample), or "malformed" when it is there but no µs timestamp (a string,
 * a fraction, 0, or a value in ms or s) — counted as unexpected, never sampled.
 */
export function transactionTimeOf(v: unknown): number | null | "malformed" {
  if (v === undefined || v === null) return null;
  return Number.isSafeInteger(v) && (v as number) >= MIN_EPOCH_US ? (v as number) : "malformed";
}

/**
 * One frame's samples: the newest transaction time per market (a frame is one delivery per market,
 * however many orders it carries), and how many items had a malformed one.
 */
export class FrameTimes {
  readonly newest = new Map<number, number>();
  malformed = 0;

  note(market: number, raw: unknown): void {
    const us = transactionTimeOf(raw);
    if (us === "malformed") this.malformed++;
    else if (us !== null && us > (this.newest.get(market) ?? -1)) this.newest.set(market, us);
  }

  /** Records this frame's delays (receipt minus transaction time) into `book` under `channel`. */
  recordInto(book: LatencyBook, channel: string, receivedAt: number): void {
    for (const [market, us] of this.newest) book.record(channel, String(market), receivedAt - us / 1000, receivedAt);
  }
}

interface Slot {
  start: number;
  n: number;
  counts: Map<number, number>;
}

/** One histogram over a sliding window made of fixed slots. */
class Windowed {
  readonly slots: Slot[] = [];
  readonly slotMs: number;
  readonly size: number;
  constructor(slotMs: number, size: number) {
    this.slotMs = slotMs;
    this.size = size;
  }

  private prune(now: number): void {
    const oldest = Math.floor(now / this.slotMs) * this.slotMs - (this.size - 1) * this.slotMs;
    while (this.slots.length > 0 && this.slots[0]!.start < oldest) this.slots.shift();
  }

  add(bucket: number, at: number, count = 1): void {
    const start = Math.floor(at / this.slotMs) * this.slotMs;
    let last = this.slots[this.slots.length - 1];
    // A sample older than the newest slot (a reordered frame) goes into that newest slot.
    if (!last || last.start < start) {
      last = { start, n: 0, counts: new Map() };
      this.slots.push(last);
      this.prune(at);
    }
    last.n += count;
    last.counts.set(bucket, (last.counts.get(bucket) ?? 0) + count);
  }

  percentiles(now: number): Percentiles | null {
    this.prune(now);
    let n = 0;
    const merged = new Map<number, number>();
    for (const s of this.slots) {
      n += s.n;
      for (const [b, c] of s.counts) merged.set(b, (merged.get(b) ?? 0) + c);
    }
    if (n === 0) return null;
    const sorted = [...merged].sort((a, b) => a[0] - b[0]);
    const at = (q: number): number => {
      const rank = Math.max(1, Math.ceil(q * n));
      let seen = 0;
      for (const [b, c] of sorted) {
        seen += c;
        if (seen >= rank) return bucketValue(b);
      }
      return bucketValue(sorted[sorted.length - 1]![0]);
    };
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), samples: n };
  }
}

/** A serialized series: per window, its slots as [start, n, [[bucket, count], …]]. */
export interface SeriesSnapshot {
  channel: string;
  market: string;
  windows: Record<LatencyWindow, [number, number, [number, number][]][]>;
}

export interface LatencySnapshot {
  v: 1;
  at: number;
  series: SeriesSnapshot[];
}

/**
 * Percentiles per channel and market over the last hour and the last 24 hours.
 *
 * @example
 * const book = new LatencyBook();
 * book.record("account_orders", "0", 42, Date.now());
 * book.view("1h", Date.now()) // { account_orders: { "0": { p50: 41.8, p90: 41.8, p99: 41.8, samples: 1 } } }
 */
export class LatencyBook {
  private readonly series = new Map<string, { channel: string; market: string; w: Record<LatencyWindow, Windowed> }>();
  /** Samples not kept because MAX_SERIES series already exist. */
  dropped = 0;
  /** Samples whose delay was negative (the receiver's clock behind the exchange's). */
  negative = 0;
  /** Samples recorded since the last snapshot (a snapshot is due only when this is > 0). */
  unsaved = 0;
  /** When the stored snapshot was taken (-Infinity: none yet). */
  savedAt = -Infinity;

  record(channel: string, market: string, delayMs: number, at: number): void {
    const key = `${channel}\u0000${market}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= MAX_SERIES) {
        this.dropped++;
        return;
      }
      s = {
        channel,
        market,
        w: {
          "1h": new Windowed(WINDOWS["1h"].slotMs, WINDOWS["1h"].slots),
          "24h": new Windowed(WINDOWS["24h"].slotMs, WINDOWS["24h"].slots),
        },
      };
      this.series.set(key, s);
    }
    if (delayMs < 0) this.negative++;
    const b = bucketOf(delayMs);
    s.w["1h"].add(b, at);
    s.w["24h"].add(b, at);
    this.unsaved++;
  }

  /** `{<channel>: {<market>: {p50, p90, p99, samples}}}` over one window; empty series are left out. */
  view(window: LatencyWindow, now: number): Record<string, Record<string, Percentiles>> {
    const out: Record<string, Record<string, Percentiles>> = {};
    for (const s of this.series.values()) {
      const p = s.w[window].percentiles(now);
      if (!p) continue;
      (out[s.channel] ??= {})[s.market] = p;
    }
    return out;
  }

  /**
   * The snapshot to store now, or null: due when something is unsaved and SNAPSHOT_EVERY_MS has
   * passed since the last one, or at once when `force`d.
   */
  due(now: number, force: boolean): LatencySnapshot | null {
    if (this.unsaved === 0 || (!force && now - this.savedAt < SNAPSHOT_EVERY_MS)) return null;
    this.savedAt = now;
    return this.snapshot(now);
  }

  /** `{<window>: view}` over both windows (the /metrics shape). */
  views(now: number): Record<LatencyWindow, ReturnType<LatencyBook["view"]>> {
    return { "1h": this.view("1h", now), "24h": this.view("24h", now) };
  }

  snapshot(now: number): LatencySnapshot {
    this.unsaved = 0;
    return {
      v: 1,
      at: now,
      series: [...this.series.values()].map((s) => ({
        channel: s.channel,
        market: s.market,
        windows: {
          "1h": s.w["1h"].slots.map((x) => [x.start, x.n, [...x.counts]] as [number, number, [number, number][]]),
          "24h": s.w["24h"].slots.map((x) => [x.start, x.n, [...x.counts]] as [number, number, [number, number][]]),
        },
      })),
    };
  }

  /** A book from a snapshot; anything malformed is skipped (a snapshot is a cache, not a record). */
  static restore(raw: unknown): LatencyBook {
    const book = new LatencyBook();
    const snap = raw as Partial<LatencySnapshot> | null;
    if (!snap || snap.v !== 1 || !Array.isArray(snap.series)) return book;
    for (const s of snap.series.slice(0, MAX_SERIES)) {
      if (typeof s?.channel !== "string" || typeof s.market !== "string" || typeof s.windows !== "object") continue;
      const w = {
        "1h": new Windowed(WINDOWS["1h"].slotMs, WINDOWS["1h"].slots),
        "24h": new Windowed(WINDOWS["24h"].slotMs, WINDOWS["24h"].slots),
      };
      for (const name of ["1h", "24h"] as const) {
        const slots = s.windows[name];
        if (!Array.isArray(slots)) continue;
        for (const slot of slots.slice(-w[name].size)) {
          if (!Array.isArray(slot) || typeof slot[0] !== "number" || !Array.isArray(slot[2])) continue;
          const counts = new Map<number, number>();
          let n = 0;
          for (const pair of slot[2]) {
            if (!Array.isArray(pair)) continue;
            const [b, c] = pair;
            if (!Number.isInteger(b) || b < 0 || b > MAX_BUCKET || !Number.isInteger(c) || c <= 0) continue;
            counts.set(b, (counts.get(b) ?? 0) + c);
            n += c;
          }
          if (n > 0) w[name].slots.push({ start: slot[0], n, counts });
        }
      }
      book.series.set(`${s.channel}\u0000${s.market}`, { channel: s.channel, market: s.market, w });
    }
    return book;
  }
}
