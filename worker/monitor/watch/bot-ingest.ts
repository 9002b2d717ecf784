/**
 * The bot's reports as `POST /watch/{monitor}/seen` receives them, pure: the body (a JSON array,
 * or NDJSON with one report a line; empty or `[]` is a heartbeat) is parsed and validated as a
 * whole, so a bad report refuses the batch with a message naming the field; the limits on body
 * size, batch size and request rate; the batch's canonical key (the same batch twice counts once);
 * and the name of the monitor's ingest-token secret.
 */

/** Amounts are compared at one fixed scale (as the watch ledger does). */
export const BOT_SCALE = 18;

export const INGEST_LIMITS = {
  /** Bytes of one request body. */
  maxBodyBytes: 256 * 1024,
  /** Reports in one batch. */
  maxReports: 1_000,
  /** Requests per monitor in any rolling minute (heartbeats included). */
  perMinute: 120,
  /** How far ahead of the server's clock `seen_at` may be (clock skew). */
  maxFutureMs: 60_000,
  /** How old `seen_at` may be (a bot's retry queue after an outage). */
  maxAgeMs: 24 * 3_600_000,
} as const;

/** One accepted report: the bot saw the order filled up to `filled` (cumulative, human units) at `seenAt`. */
export interface SeenReport {
  /** Decimal string, or null when the bot named the client order index only. */
  orderIndex: string | null;
  clientOrderIndex: string | null;
  /** As the bot sent it ("0.0050"). */
  filledBase: string;
  /** The same at BOT_SCALE decimals. */
  filled: bigint;
  /** Epoch ms. */
  seenAt: number;
}

export type ParsedBatch = { ok: true; reports: SeenReport[] } | { ok: false; field: string; message: string };

const KEYS = new Set(["order_index", "client_order_index", "filled_base", "seen_at"]);
const ID_RE = /^(0|[1-9][0-9]{0,18})$/;
const MAX_ID = 2n ** 63n - 1n;
const AMOUNT_RE = /^(0|[1-9][0-9]{0,19})(\.[0-9]{1,18})?$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

class Refused extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

function id(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "number")
    throw new Refused(field, `must be a decimal string such as "281476612587355" (ids can exceed 2^53), not a number`);
  if (typeof v !== "string" || !ID_RE.test(v) || BigInt(v) > MAX_ID)
    throw new Refused(field, "must be a decimal string of a non-negative 63-bit integer");
  return v;
}

function amount(v: unknown, field: string): { text: string; scaled: bigint } {
  if (typeof v !== "string" || !AMOUNT_RE.test(v))
    throw new Refused(
      field,
      'must be the cumulative filled amount as a decimal string in the market\'s units, such as "0.0050" (at most 18 decimals)',
    );
  const [whole, frac = ""] = v.split(".");
  return { text: v, scaled: BigInt(`${whole}${frac.padEnd(BOT_SCALE, "0")}`) };
}

function instant(v: unknown, field: string, now: number): number {
  let ms: number;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) ms = v;
  else if (typeof v === "string" && ISO_RE.test(v)) ms = Date.parse(v);
  else throw new Refused(field, "must be epoch milliseconds (an integer) or an ISO-8601 timestamp with a zone");
  if (!Number.isFinite(ms)) throw new Refused(field, "is not a valid time");
  if (ms > now + INGEST_LIMITS.maxFutureMs)
    throw new Refused(
      field,
      `is ${Math.round((ms - now) / 1000)} s ahead of the server's clock (check the bot's clock)`,
    );
  if (ms < now - INGEST_LIMITS.maxAgeMs) throw new Refused(field, "is more than 24 hours old");
  return ms;
}

function report(v: unknown, at: string, now: number): SeenReport {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Refused(at, "must be an object {order_index | client_order_index, filled_base, seen_at}");
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!KEYS.has(k))
      throw new Refused(`${at}.${k}`, "is not a known field (order_index, client_order_index, filled_base, seen_at)");
  const orderIndex = id(o.order_index, `${at}.order_index`);
  const clientOrderIndex = id(o.client_order_index, `${at}.client_order_index`);
  if (orderIndex === null && clientOrderIndex === null)
    throw new Refused(`${at}.order_index`, "order_index or client_order_index is required");
  if (o.filled_base === undefined) throw new Refused(`${at}.filled_base`, "is required");
  const filled = amount(o.filled_base, `${at}.filled_base`);
  if (o.seen_at === undefined) throw new Refused(`${at}.seen_at`, "is required");
  return {
    orderIndex,
    clientOrderIndex,
    filledBase: filled.text,
    filled: filled.scaled,
    seenAt: instant(o.seen_at, `${at}.seen_at`, now),
  };
}

/** Whether a Content-Type names NDJSON (else the body is read as JSON). */
export function isNdjson(contentType: string | null | undefined): boolean {
  const t = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return t === "application/x-ndjson" || t === "application/ndjson" || t === "application/jsonl";
}

/**
 * Parses a whole batch; the first problem refuses all of it.
 *
 * @example
 * parseSeenBatch('[{"order_index":"7","filled_base":"0.01","seen_at":1700000000000}]', "application/json", 1700000000000)
 * // { ok: true, reports: [{ orderIndex: "7", clientOrderIndex: null, filledBase: "0.01", filled: 10000000000000000n, seenAt: 1700000000000 }] }
 */
export function parseSeenBatch(body: string, contentType: string | null | undefined, now: number): ParsedBatch {
  try {
    const reports: SeenReport[] = [];
    const push = (r: SeenReport) => {
      if (reports.length >= INGEST_LIMITS.maxReports)
        throw new Refused("body", `a batch holds at most ${INGEST_LIMITS.maxReports} reports; send several batches`);
      reports.push(r);
    };
    if (body.trim() === "") return { ok: true, reports };
    if (isNdjson(contentType)) {
      const lines = body.split("\n");
      lines.forEach((line, i) => {
        if (line.trim() === "") return;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          throw new Refused(`line ${i + 1}`, "is not valid JSON");
        }
        push(report(v, `line ${i + 1}`, now));
      });
      return { ok: true, reports };
    }
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      throw new Refused(
        "body",
        "is not valid JSON (send a JSON array, or NDJSON with content-type application/x-ndjson)",
      );
    }
    if (!Array.isArray(data)) throw new Refused("body", "must be a JSON array of reports ([] is a heartbeat)");
    if (data.length > INGEST_LIMITS.maxReports)
      throw new Refused("body", `a batch holds at most ${INGEST_LIMITS.maxReports} reports; send several batches`);
    data.forEach((v, i) => push(report(v, `[${i}]`, now)));
    return { ok: true, reports };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, field: err.field, message: `${err.field}: ${err.message}` };
    throw err;
  }
}

/** The canonical text of a batch: equal for the same reports in the same order, whatever the encoding. */
export function batchText(reports: readonly SeenReport[]): string {
  return reports
    .map((r) => `${r.orderIndex ?? ""}|${r.clientOrderIndex ?? ""}|${r.filled.toString()}|${r.seenAt}`)
    .join("\n");
}

/**
 * The secret holding a monitor's ingest token: `WATCH_INGEST_TOKEN__` and the monitor id upper-cased
 * with every other character as `_` ("custom:12:4" → "WATCH_INGEST_TOKEN__CUSTOM_12_4").
 */
export function ingestTokenSecretName(monitorId: string): string {
  return `WATCH_INGEST_TOKEN__${monitorId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Requests in a rolling minute: the times of the accepted ones. */
export interface IngestRate {
  times: number[];
}

/**
 * Admits one request at `now` or returns how long to wait (ms) before the next one is admitted.
 *
 * @example
 * const r = { times: [] }; admitIngest(r, 0, 1); admitIngest(r, 10, 1) // 59990
 */
export function admitIngest(rate: IngestRate, now: number, perMinute: number = INGEST_LIMITS.perMinute): number {
  while (rate.times.length > 0 && rate.times[0]! <= now - 60_000) rate.times.shift();
  if (rate.times.length >= perMinute) return Math.max(1, rate.times[0]! + 60_000 - now);
  rate.times.push(now);
  return 0;
}
