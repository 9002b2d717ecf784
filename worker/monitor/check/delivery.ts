/**
 * Delivery latency of a check monitor's session: every account update frame's receipt minus its
 * newest `transaction_time` per market (worker/monitor/check/frames.ts reads them), per channel and
 * market over 1 h and 24 h, in memory (worker/monitor/latency.ts). A side measurement: the machine
 * never sees it. Its snapshot never costs a write of its own: it rides on the machine row's save
 * (worker/store/check/store.ts), at most once a minute, and with the save that ends a check (the
 * state with no check), so what a check measured survives an eviction.
 */
import { LatencyBook, type FrameTimes, type LatencySnapshot } from "../latency.ts";

export { SNAPSHOT_EVERY_MS } from "../latency.ts";

export interface DeliveryView {
  delivery_latency_ms: ReturnType<LatencyBook["view"]>;
  delivery_latency_ms_24h: ReturnType<LatencyBook["view"]>;
}

function parse(text: string | null): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

export class CheckDelivery {
  readonly book: LatencyBook;

  /** `stored`: the snapshot saved with the machine's state (a cache: anything malformed is dropped). */
  constructor(stored: string | null) {
    const raw = parse(stored) as Partial<LatencySnapshot> | null;
    this.book = LatencyBook.restore(raw);
    if (typeof raw?.at === "number") this.book.savedAt = raw.at;
  }

  /** One account update frame of `channel`, received at `receivedAt`. */
  onFrame(channel: string, times: FrameTimes, receivedAt: number): void {
    times.recordInto(this.book, channel, receivedAt);
  }

  /**
   * The snapshot (JSON) to write with the state save happening now, or null to keep the stored one:
   * due when something is unsaved and a minute has passed, or when no check runs any more (the
   * save that ends a check; checks start at most once a minute by cron).
   */
  due(now: number, idle: boolean): string | null {
    const snap = this.book.due(now, idle);
    return snap && JSON.stringify(snap);
  }

  /** `/status`: per channel and market over the last hour and the last 24 hours. */
  view(now: number): DeliveryView {
    return { delivery_latency_ms: this.book.view("1h", now), delivery_latency_ms_24h: this.book.view("24h", now) };
  }

  /** `/metrics` (worker/api/metrics-bot.ts): window → channel → market → percentiles. */
  metrics(now: number): { latency: Record<string, ReturnType<LatencyBook["view"]>> } {
    return { latency: this.book.views(now) };
  }
}
