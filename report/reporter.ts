/**
 * fillwatch's bot-side reporter: one call per fill your bot sees, and it batches the reports,
 * posts them to `POST /watch/{monitor}/seen` with the monitor's ingest token, retries with
 * exponential backoff and jitter (the same bytes again, so a retried batch counts once), honours
 * Retry-After, and sends a heartbeat (an empty batch) when it has had nothing to send for a while.
 * Dependency-free: global `fetch` and timers (Node ≥ 20, Deno, Bun, browsers, Workers).
 *
 * @example
 * import { FillReporter } from "fillwatch/report";
 * const reporter = new FillReporter({ url: "https://fillwatch.example.workers.dev", monitor: "mainnet:123456:7", token: process.env.FILLWATCH_INGEST_TOKEN! });
 * reporter.start();
 * // in the bot's order-update handler, with the order's CUMULATIVE filled amount in market units:
 * reporter.seen({ order_index: "281476612587355", filled_base: "0.0050" });
 */

export interface SeenFill {
  /** Decimal string (order indexes exceed 2^53: never a number). One of the two ids is required. */
  order_index?: string;
  client_order_index?: string;
  /** The order's cumulative filled amount in the market's units, as the exchange wrote it ("0.0050"). */
  filled_base: string;
  /** When the bot saw it (epoch ms); now when left out. */
  seen_at?: number;
}

export interface ReporterOptions {
  /** The fillwatch Worker's base URL. */
  url: string;
  /** The watch monitor's id, as in /status ("mainnet:123456:7"). */
  monitor: string;
  /** The monitor's ingest token (the secret WATCH_INGEST_TOKEN__<monitor>). Never API_TOKEN. */
  token: string;
  /** How long a report may wait to be batched with others (ms). Default 500. */
  flushMs?: number;
  /** An empty batch is sent after this long without a request (ms). Default 5 000. */
  heartbeatMs?: number;
  /** Reports per request (the server takes at most 1 000). Default 500. */
  maxBatch?: number;
  /** Reports kept while fillwatch is unreachable; beyond it the oldest are dropped (and counted). Default 50 000. */
  maxQueue?: number;
  /** First retry delay and cap (ms). Defaults 500 and 30 000. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout (ms). Default 10 000. */
  timeoutMs?: number;
  /** Told about every failed request (never about the token). */
  onError?: (e: { status: number | null; message: string; retryInMs: number | null }) => void;
  fetch?: typeof fetch;
}

export interface ReporterStats {
  sent: number;
  heartbeats: number;
  retries: number;
  /** Reports dropped: refused by the server (400: a bad report; fix the bot) or beyond maxQueue. */
  dropped: number;
  queued: number;
}

const ID_RE = /^(0|[1-9][0-9]{0,18})$/;
const AMOUNT_RE = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

export class FillReporter {
  readonly stats: ReporterStats = { sent: 0, heartbeats: 0, retries: 0, dropped: 0, queued: 0 };
  private readonly o: Required<Omit<ReporterOptions, "onError" | "fetch">> & Pick<ReporterOptions, "onError">;
  private readonly fetchFn: typeof fetch;
  private queue: SeenFill[] = [];
  /** The batch being sent (kept byte-for-byte until it is accepted). */
  private inFlight: { body: string; count: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt: number | null = null;
  private running = false;
  private busy = false;
  private lastSentAt = 0;
  private attempt = 0;
  private notBefore = 0;

  constructor(o: ReporterOptions) {
    this.o = {
      url: o.url.replace(/\/+$/, ""),
      monitor: o.monitor,
      token: o.token,
      flushMs: o.flushMs ?? 500,
      heartbeatMs: o.heartbeatMs ?? 5_000,
      maxBatch: Math.min(1_000, o.maxBatch ?? 500),
      maxQueue: o.maxQueue ?? 50_000,
      backoffMs: o.backoffMs ?? 500,
      maxBackoffMs: o.maxBackoffMs ?? 30_000,
      timeoutMs: o.timeoutMs ?? 10_000,
      onError: o.onError,
    };
    this.fetchFn = o.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  }

  /** Records one fill the bot saw. Throws on a report the server would refuse (so the bug is found at once). */
  seen(f: SeenFill): void {
    if (f.order_index === undefined && f.client_order_index === undefined)
      throw new TypeError("seen: order_index or client_order_index is required");
    for (const k of ["order_index", "client_order_index"] as const) {
      const v = f[k];
      if (v !== undefined && (typeof v !== "string" || !ID_RE.test(v)))
        throw new TypeError(`seen: ${k} must be a decimal string (ids exceed 2^53: never pass a number)`);
    }
    if (typeof f.filled_base !== "string" || !AMOUNT_RE.test(f.filled_base))
      throw new TypeError('seen: filled_base must be the cumulative amount as a decimal string, such as "0.0050"');
    this.queue.push({ ...f, seen_at: f.seen_at ?? Date.now() });
    while (this.queue.length > this.o.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.stats.queued = this.queue.length;
    if (this.running) {
      const wait = this.queue.length >= this.o.maxBatch ? 0 : this.o.flushMs;
      if (this.timerAt === null || this.timerAt > Date.now() + wait) this.schedule(wait);
    }
  }

  /** Starts the batching and heartbeat loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop after sending what is queued (one attempt per batch). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = null;
    while (!this.busy && (this.inFlight || this.queue.length > 0)) if (!(await this.sendOnce())) break;
  }

  /** Sends what is queued now (or a heartbeat); resolves true when the request was accepted. */
  async flush(): Promise<boolean> {
    if (this.busy) return false;
    return this.sendOnce(true);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(ms, this.notBefore - Date.now(), 0);
    this.timerAt = Date.now() + wait;
    this.timer = setTimeout(() => void this.loop(), wait);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async loop(): Promise<void> {
    this.timer = null;
    this.timerAt = null;
    if (!this.running || this.busy) return;
    const now = Date.now();
    const due = this.inFlight !== null || this.queue.length > 0 || now - this.lastSentAt >= this.o.heartbeatMs;
    if (due) await this.sendOnce(this.inFlight === null && this.queue.length === 0);
    const wait =
      this.inFlight || this.queue.length > 0
        ? this.attempt > 0
          ? 0 // the backoff is in notBefore
          : this.o.flushMs
        : Math.max(0, this.lastSentAt + this.o.heartbeatMs - Date.now());
    this.schedule(wait);
  }

  private backoff(): number {
    const base = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** Math.min(16, this.attempt - 1));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  private async sendOnce(heartbeat = false): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      if (!this.inFlight) {
        const batch = this.queue.splice(0, this.o.maxBatch);
        if (batch.length === 0 && !heartbeat) return true;
        this.inFlight = { body: JSON.stringify(batch), count: batch.length };
        this.stats.queued = this.queue.length;
      }
      const { body, count } = this.inFlight;
      let status: number | null = null;
      let retryAfterMs: number | null = null;
      let message = "";
      try {
        const res = await this.fetchFn(`${this.o.url}/watch/${encodeURIComponent(this.o.monitor)}/seen`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${this.o.token}` },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        status = res.status;
        const text = await res.text().catch(() => "");
        if (res.ok) {
          this.inFlight = null;
          this.attempt = 0;
          this.notBefore = 0;
          this.lastSentAt = Date.now();
          if (count === 0) this.stats.heartbeats++;
          else this.stats.sent += count;
          return true;
        }
        message = text.slice(0, 300);
        const ra = Number(res.headers.get("retry-after"));
        if (res.status === 429 && Number.isFinite(ra) && ra > 0) retryAfterMs = ra * 1000;
        if (res.status === 400 || res.status === 413) {
          // The server refused the batch as a whole and will refuse it again: drop it, keep going.
          this.inFlight = null;
          this.stats.dropped += count;
          this.o.onError?.({ status, message, retryInMs: null });
          return false;
        }
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
      }
      this.attempt++;
      this.stats.retries++;
      const retryIn = retryAfterMs ?? this.backoff();
      this.notBefore = Date.now() + retryIn;
      this.o.onError?.({ status, message, retryInMs: retryIn });
      return false;
    } finally {
      this.busy = false;
    }
  }
}
