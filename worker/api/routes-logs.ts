/**
 * GET /logs: the structured event log, newest first, with level (minimum), event (exact or dotted
 * prefix), check, time range and text filters and an id cursor. Amounts in event data are in the
 * market's units with `*_raw` twins. `Accept: application/x-ndjson` streams every matching row
 * (from the cursor on, capped by an explicit limit) one JSON per line: that branch is a route
 * middleware (zod-openapi types a route's responses as JSON only), validated by the same schema.
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { MonitorConfig } from "../config.ts";
import type { LogsPage as LogsPageData, LogsQuery } from "../views/logs.ts";
import { findMonitor, monitorStub, typed } from "./monitors.ts";
import {
  LogEvent,
  LogsPage,
  errors,
  eventFilters,
  instantParam,
  intParam,
  issuesMessage,
  monitorParam,
  shaped,
  z,
} from "./schemas.ts";
import type { Api, ApiEnv } from "./types.ts";
import { humanizeEvent, isoOf, type Units } from "./units.ts";

const EXPORT_PAGE = 1000;
const EXPORT_MAX = 100_000;

const Query = z.object({
  monitor: monitorParam,
  limit: intParam("limit", 1, 1000, 100),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { message: "must be the next_cursor of a previous page" })
    .optional()
    .openapi({ param: { name: "cursor", in: "query" } }),
  ...eventFilters,
  since: instantParam("since", "At or after"),
  until: instantParam("until", "Before"),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: "q", in: "query" }, description: "Case-insensitive text in the event name or data" }),
});

type Parsed = z.infer<typeof Query>;

/** The monitor, its object's query and the event shaper, from validated parameters. */
async function prepare(env: Env, v: Parsed) {
  const m: MonitorConfig = findMonitor(env, v.monitor);
  if (v.since !== null && v.until !== null && v.since >= v.until)
    throw new HTTPException(400, { message: "since: must be before until" });
  const stub = monitorStub(env, m);
  const base: LogsQuery = {
    limit: v.limit,
    before: v.cursor === undefined ? null : Number(v.cursor),
    level: v.level ?? null,
    event: v.event ?? null,
    checkId: v.check ?? null,
    since: v.since,
    until: v.until,
    text: v.q ?? null,
  };
  const units = (await stub.marketUnits()) as Record<string, Units>;
  const only = m.markets.length === 1 ? m.markets[0]! : null;
  const shape = (e: LogsPageData["events"][number]) =>
    humanizeEvent({ ...e, at_iso: isoOf(e.at) ?? new Date(e.at).toISOString() }, (k) => units[k] ?? null, only);
  return { stub, base, shape };
}

/** `Accept: application/x-ndjson`: every matching event, one JSON per line, streamed. */
const ndjsonExport: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (!(c.req.header("Accept") ?? "").includes("application/x-ndjson")) return next();
  const parsed = Query.safeParse(c.req.query());
  if (!parsed.success) throw new HTTPException(400, { message: issuesMessage(parsed.error.issues) });
  const v = parsed.data;
  const { stub, base, shape } = await prepare(c.env, v);
  const cap = c.req.query("limit") === undefined ? EXPORT_MAX : v.limit;
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      let before = base.before;
      let sent = 0;
      try {
        while (sent < cap) {
          const page = await typed<LogsPageData>(
            stub.queryLogs({ ...base, before, limit: Math.min(EXPORT_PAGE, cap - sent) }),
          );
          if (page.events.length > 0)
            controller.enqueue(enc.encode(page.events.map((e) => `${JSON.stringify(shape(e))}\n`).join("")));
          sent += page.events.length;
          if (page.next_cursor === null) break;
          before = Number(page.next_cursor);
        }
        controller.close();
      } catch (err) {
        controller.error(err);
      }
    },
  });
  return c.body(body, 200, { "content-type": "application/x-ndjson" });
};

export function registerLogRoutes(app: Api): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/logs",
      summary: "The bounded structured event log (JSON pages, or NDJSON export with Accept: application/x-ndjson)",
      middleware: [ndjsonExport] as const,
      request: { query: Query },
      responses: {
        200: {
          description: "A page of events, or every matching event as NDJSON",
          content: { "application/json": { schema: LogsPage }, "application/x-ndjson": { schema: LogEvent } },
        },
        ...errors(400, 401, 404, 503),
      },
    }),
    async (c) => {
      const { stub, base, shape } = await prepare(c.env, c.req.valid("query"));
      const page = await typed<LogsPageData>(stub.queryLogs(base));
      return c.json(shaped(LogsPage, { events: page.events.map(shape), next_cursor: page.next_cursor }), 200);
    },
  );
}
