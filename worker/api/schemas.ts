/**
 * The one set of zod schemas (via @hono/zod-openapi) behind every route: they validate requests
 * and generate /openapi.json. Query integers are strict decimal (no `1e3`, `0x10`, `1.0`, signs);
 * timestamps are ISO-8601 or epoch milliseconds. Zod runs jitless (no `new Function`) in workerd.
 */
import { z } from "@hono/zod-openapi";

z.config({ jitless: true });

export { z };

/** The message of a 400: the first three issues, each naming its parameter. */
export function issuesMessage(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.map(String).join(".") : "body"}: ${i.message}`)
    .join("; ");
}

/**
 * A response body checked against the schema its route declares: the handler gets the exact type
 * the OpenAPI document promises, and data that drifted from it is a logged 500, never a response
 * that contradicts the document.
 */
export function shaped<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return schema.parse(value);
}

export const ErrorEnvelope = z
  .object({ error: z.object({ status: z.number().int(), message: z.string() }) })
  .openapi("Error", { example: { error: { status: 400, message: "limit: must be a decimal integer from 1 to 200" } } });

const DECIMAL_INT = /^(0|[1-9][0-9]*)$/;

/** A strict decimal integer query parameter in [min, max]. */
export function intParam(name: string, min: number, max: number, def: number) {
  return z
    .string()
    .regex(DECIMAL_INT, { message: `must be a decimal integer from ${min} to ${max}` })
    .refine((s) => s.length <= 16 && Number(s) >= min && Number(s) <= max, {
      message: `must be a decimal integer from ${min} to ${max}`,
    })
    .optional()
    .transform((s) => (s === undefined ? def : Number(s)))
    .openapi({
      param: { name, in: "query" },
      type: "integer",
      minimum: min,
      maximum: max,
      default: def,
    });
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms from an ISO-8601 timestamp (with zone) or a decimal epoch-ms integer; NaN if neither. */
export function parseInstant(s: string): number {
  if (DECIMAL_INT.test(s) && s.length <= 15) return Number(s);
  if (ISO_RE.test(s)) return Date.parse(s);
  return NaN;
}

export function instantParam(name: string, description: string) {
  return z
    .string()
    .refine((s) => Number.isFinite(parseInstant(s)), {
      message: "must be an ISO-8601 timestamp with a zone (2026-01-02T03:04:05Z) or epoch milliseconds",
    })
    .optional()
    .transform((s) => (s === undefined ? null : parseInstant(s)))
    .openapi({ param: { name, in: "query" }, type: "string", description, example: "2026-01-02T03:04:05Z" });
}

export const monitorParam = z
  .string()
  .min(1)
  .optional()
  .openapi({
    param: { name: "monitor", in: "query" },
    description: "Monitor id (see /status). Optional when exactly one monitor is configured; unknown → 404.",
    example: "testnet:0:3",
  });

export const MonitorQuery = z.object({ monitor: monitorParam });

/** The event-log filters shared by /logs and the live tail (/logs/stream). */
export const eventFilters = {
  level: z
    .enum(["debug", "info", "warn", "error"])
    .optional()
    .openapi({ param: { name: "level", in: "query" }, description: "Minimum level" }),
  event: z
    .string()
    .regex(/^[a-z0-9_.]{1,64}$/, { message: "must be an event name or dotted prefix such as check.stage" })
    .optional()
    .openapi({ param: { name: "event", in: "query" }, description: "Exact event or dotted prefix" }),
  check: z
    .string()
    .regex(/^[0-9a-z]{1,16}-[0-9]{1,16}$/, { message: "must be a check id such as mabc123-7" })
    .optional()
    .openapi({ param: { name: "check", in: "query" }, description: "Only events of this check" }),
};

/** A JSON object whose shape is documented in prose (evidence, frames, exchange details). */
export const Json = z.record(z.string(), z.unknown());

const ts = (d: string) =>
  z
    .number()
    .int()
    .nullable()
    .openapi({ description: `${d} (epoch ms)` });
const iso = (d: string) =>
  z
    .string()
    .nullable()
    .openapi({ description: `${d} (ISO-8601)` });

export const StageMark = z.object({ at: z.number().int(), at_iso: z.string().nullable(), ms: z.number() });

export const CheckSummary = z
  .object({
    id: z.string(),
    state: z.enum(["running", "flattening", "done"]).openapi({ description: "done only once the flatten concluded" }),
    verdict: z.enum(["pass", "degraded", "fail", "skipped"]).nullable(),
    first_failing_stage: z.string().nullable(),
    diagnosis: z.string().nullable(),
    reasons: z.array(z.string()),
    market: z.number().int(),
    trigger: z.string().nullable().optional(),
    started_at: ts("Start"),
    started_at_iso: iso("Start"),
    finished_at: ts("Verdict time"),
    finished_at_iso: iso("Verdict time"),
    stages: z.record(z.string(), StageMark),
    action: z.string().nullable(),
    flatten: z.string().nullable(),
    client_order_index: z.string().nullable(),
    fill_latency_ms: z.number().nullable(),
    evidence: Json.optional().openapi({
      description:
        "Only with ?detail=full (and on /checks/{id}): amounts in market units with *_raw twins, frames as stored",
    }),
    flatten_detail: Json.nullable().optional(),
    bound_at: ts("Hard bound of the check").optional(),
    bound_at_iso: iso("Hard bound of the check").optional(),
  })
  .passthrough()
  .openapi("Check");

export const ChecksPage = z
  .object({
    checks: z.array(CheckSummary),
    next_cursor: z.string().nullable().openapi({ description: "Pass as ?cursor= for the next (older) page" }),
  })
  .openapi("ChecksPage");

export const OrderSchema = z
  .object({
    client_order_index: z.string(),
    check_id: z.string(),
    purpose: z.string(),
    market: z.number().int(),
    side: z.enum(["buy", "sell"]),
    base_amount: z.string().nullable().openapi({ description: "In the market's base units, e.g. 0.0050" }),
    base_amount_raw: z.string(),
    price: z.string().nullable().openapi({ description: "Limit price in quote units, e.g. 2349.95" }),
    price_raw: z.string(),
    nonce: z.string(),
    tx_hash: z.string(),
    send_state: z.string(),
    order_index: z.string().nullable(),
    status: z.string().nullable(),
    filled_base: z.string().nullable(),
    filled_base_raw: z.string(),
    ws_filled_base: z.string().nullable(),
    ws_filled_base_raw: z.string(),
    seen_at: ts("Seen on the WebSocket"),
    seen_at_iso: iso("Seen on the WebSocket"),
    first_fill_at: ts("First fill"),
    first_fill_at_iso: iso("First fill"),
    events: z.array(Json),
  })
  .passthrough()
  .openapi("Order");

export const LogEvent = z
  .object({
    id: z.number().int(),
    at: z.number().int(),
    at_iso: z.string(),
    level: z.enum(["debug", "info", "warn", "error"]),
    event: z.string(),
    check_id: z.string().nullable(),
    data: Json,
  })
  .openapi("LogEvent");

export const LogsPage = z.object({ events: z.array(LogEvent), next_cursor: z.string().nullable() }).openapi("LogsPage");

export const PauseState = z
  .object({
    paused: z.boolean(),
    by: z.string().nullable().openapi({ description: 'Who paused: "api" for the HTTP API' }),
    reason: z.string().nullable(),
    until: ts("Pause lifts itself at"),
    until_iso: iso("Pause lifts itself at"),
    since: ts("Paused since"),
    since_iso: iso("Paused since"),
  })
  .openapi("PauseState");

export const PauseBody = z
  .object({
    reason: z.string().max(500).optional(),
    until: z
      .union([z.string(), z.number()])
      .optional()
      .openapi({ description: "ISO-8601 with a zone, or epoch ms; must be in the future" }),
  })
  .strict()
  .openapi("PauseRequest");

const ratioOf = (what: string) =>
  z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .openapi({ description: `${what}: up / (up + down); null when nothing counted` });

export const StageUptime = z.object({ up: z.number().int(), down: z.number().int(), ratio: ratioOf("Stage uptime") });

export const UptimeWindow = z
  .object({
    since: z.number().int().openapi({ description: "Start of the oldest clock hour counted (epoch ms)" }),
    since_iso: z.string().nullable(),
    pass: z.number().int(),
    degraded: z.number().int(),
    fail: z.number().int(),
    skipped: z.number().int().openapi({ description: "Shown apart: neither up nor down" }),
    up: z.number().int().openapi({ description: "pass + degraded (degraded is down with alerts.degraded_counts)" }),
    down: z.number().int(),
    ratio: ratioOf("Share of checks that detected the fill"),
    stages: z.record(z.string(), StageUptime).openapi({
      description: "Per stage: up in checks that got past it, down in checks that failed at it",
    }),
  })
  .openapi("UptimeWindow");

export const Uptime = z
  .object({ "24h": UptimeWindow, "7d": UptimeWindow, "30d": UptimeWindow })
  .openapi("Uptime", { description: "Windows count whole clock hours: 24h is this hour and the 23 before it" });

export const Incident = z
  .object({
    id: z.string(),
    kind: z.string().openapi({ description: "Alert stream: checks, flatten, monitor, watch, watch_channel, …" }),
    state: z.enum(["open", "resolved"]),
    opened_at: z.number().int(),
    opened_at_iso: z.string().nullable(),
    resolved_at: z.number().int().nullable(),
    resolved_at_iso: z.string().nullable(),
    duration_ms: z.number().int().openapi({ description: "Until resolved, or until now while open" }),
    first_check_id: z.string(),
    stage: z.string().nullable(),
    diagnosis: z.string().nullable(),
    earlier_diagnoses: z.array(z.string()),
    failures: z.number().int(),
    action: z.string().nullable(),
  })
  .openapi("Incident");

export const IncidentsPage = z
  .object({ incidents: z.array(Incident), next_cursor: z.string().nullable() })
  .openapi("IncidentsPage");

const Percentiles = z.object({ p50: z.number(), p90: z.number(), p99: z.number(), samples: z.number().int() });

export const DeliveryLatency = z.record(z.string(), z.record(z.string(), Percentiles)).openapi("DeliveryLatency", {
  description:
    "channel → market → ms from an account update frame's transaction_time (µs) to its receipt (within 1 %; negative as 0)",
});

export const StatusMonitor = z
  .object({
    id: z.string(),
    network: z.string(),
    chain_id: z.number().int(),
    markets: z.array(z.number().int()),
    mode: z.string(),
    location_hint: z.string().nullable(),
    valid: z.boolean().openapi({ description: "false: the entry has config errors and runs no check" }),
    config_problems: z
      .array(Json)
      .openapi({ description: "this entry's own config problems, each naming the setting and the fix" }),
    paused: z.boolean().optional(),
    pause: PauseState.optional(),
    session: Json,
    last_check: Json.nullable(),
    uptime: Uptime.optional(),
    incident_history: z
      .array(Incident)
      .optional()
      .openapi({ description: "The latest incidents, open and resolved (all of them: GET /incidents)" }),
    delivery_latency_ms: DeliveryLatency.optional().openapi({
      description: "Exchange delivery latency over the last hour (check and watch monitors)",
    }),
    delivery_latency_ms_24h: DeliveryLatency.optional().openapi({ description: "The same over the last 24 hours" }),
    error: z.string().optional(),
  })
  .passthrough()
  .openapi("MonitorStatus");

export const StatusBody = z
  .object({
    monitors: z.array(StatusMonitor),
    config: z.object({ ok: z.boolean(), problems: z.array(Json) }),
  })
  .openapi("Status");

export const Delivery = z
  .object({
    target: z.string().openapi({ description: "webhook, slack, discord, telegram or pagerduty" }),
    index: z.number().int(),
    ok: z.boolean(),
    status: z.number().int().nullable().openapi({ description: "HTTP status of the target, null on a network error" }),
    latency_ms: z.number(),
    error: z.string().nullable(),
  })
  .openapi("AlertDelivery");

export const AlertTestBody = z
  .object({
    monitor: z.string(),
    sent_at: z.string(),
    ok: z.boolean(),
    deliveries: z.array(Delivery),
    resolves_at: z
      .string()
      .nullable()
      .openapi({ description: "When the PagerDuty test incident is resolved (a minute later); null without one" }),
  })
  .openapi("AlertTest");

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const errors = (...codes: (400 | 401 | 404 | 405 | 409 | 429 | 503)[]) => {
  const text: Record<number, string> = {
    400: "Bad parameter (the message names it)",
    401: "Missing or invalid bearer token",
    404: "Unknown monitor or object",
    405: "Method not allowed (see Allow)",
    409: "Conflict (paused, a check is running, or no monitor configured)",
    429: "Too many manual runs (see Retry-After)",
    503: "API_TOKEN not configured",
  };
  return Object.fromEntries(codes.map((c) => [c, jsonContent(ErrorEnvelope, text[c]!)]));
};
